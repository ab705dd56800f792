"""The demo world's weather: hourly observations of a date and the forecast for the next date.

The weather of a date depends only on (seed, date, climate), so the forecast issued on date D can be a
noisy copy of the observations that :func:`simulate_weather` will produce for D + 1: forecasts carry
information, as real ones do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulator.seeding import rng_for
from simulator.world import World

__all__ = [
    "CONDITIONS",
    "DEFAULT_CLIMATE",
    "FORECAST_COLUMNS",
    "OBSERVATION_COLUMNS",
    "Climate",
    "Weather",
    "simulate_weather",
]

OBSERVATION_COLUMNS: tuple[str, ...] = (
    "observed_at_utc", "temperature_c", "precipitation_mm", "wind_kmh", "condition",
)
"""Columns of ``weather/weather_YYYY-MM-DD.csv``, in contract order."""

FORECAST_COLUMNS: tuple[str, ...] = (
    "issued_at_utc", "valid_at_utc", "temperature_c", "precipitation_mm", "precipitation_probability",
    "condition",
)
"""Columns of ``weather/forecast_YYYY-MM-DD.csv``, in contract order."""

CONDITIONS: tuple[str, ...] = ("dry", "rain", "heavy_rain", "snow")

_WET_MM = 0.1  # an hour with at least this much precipitation is wet
_HEAVY_MM = 4.0  # ... and heavy from this much on
_SNOW_BELOW_C = 0.5
_FORECAST_ISSUE_HOUR = 18  # local hour at which the next day's forecast is issued
_FORECAST_TEMP_SD_C = 1.2
_FORECAST_PRECIP_SIGMA = 0.5  # log-scale error of forecast amounts
_FORECAST_SHIFT_HOURS = (-1, 0, 0, 0, 1)  # timing error of rain episodes, drawn per day


@dataclass(frozen=True)
class Climate:
    """Parameters of the weather generator, by calendar month (January first).

    Rain comes in episodes: a Poisson number start at uniform times of the day, each lasting an
    exponential number of hours with a lognormal intensity.

    Attributes
    ----------
    episodes_per_day : tuple of 12 float
        Mean number of rain episodes starting on a day of each month.
    episode_hours : float
        Mean duration of an episode, hours.
    intensity_mm_h : float
        Median precipitation of a wet hour, mm.
    intensity_sigma : float
        Log-scale spread of the hourly intensity.
    mean_temperature_c : tuple of 12 float
        Daily mean temperature of each month, degC.
    daily_range_c : float
        Difference between the afternoon maximum and the early-morning minimum, degC.
    wind_kmh : float
        Median wind speed, km/h.
    """

    episodes_per_day: tuple[float, ...]
    episode_hours: float = 3.0
    intensity_mm_h: float = 1.2
    intensity_sigma: float = 0.8
    mean_temperature_c: tuple[float, ...] = (0.5, 2.0, 6.0, 10.0, 14.5, 18.0, 19.5, 19.0, 15.0, 10.5, 5.0, 1.5)
    daily_range_c: float = 8.0
    wind_kmh: float = 8.0

    def __post_init__(self) -> None:
        if len(self.episodes_per_day) != 12 or len(self.mean_temperature_c) != 12:
            raise ValueError("a climate needs 12 monthly values for episodes_per_day and mean_temperature_c")
        if any(e < 0 for e in self.episodes_per_day):
            raise ValueError("episodes_per_day must be non-negative")
        if self.episode_hours <= 0 or self.intensity_mm_h <= 0:
            raise ValueError("episode_hours and intensity_mm_h must be positive")

    def with_month(self, month: int, episodes_per_day: float) -> Climate:
        """Return a copy in which ``month`` (1-12) has ``episodes_per_day`` rain episodes on average."""
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1..12, got {month}")
        episodes = list(self.episodes_per_day)
        episodes[month - 1] = episodes_per_day
        return replace(self, episodes_per_day=tuple(episodes))


DEFAULT_CLIMATE = Climate(
    # The Alpine Rhine valley: wettest from May to August (thunderstorms), driest in late winter.
    episodes_per_day=(0.45, 0.40, 0.50, 0.60, 0.80, 0.95, 0.95, 0.90, 0.65, 0.55, 0.55, 0.50),
)
"""The climate of the demo world (Liechtenstein, valley floor)."""


@dataclass(frozen=True)
class Weather:
    """The weather of one service date.

    Attributes
    ----------
    service_date : datetime.date
    observations : pandas.DataFrame
        One row per local hour of the date with :data:`OBSERVATION_COLUMNS` (23 or 25 on DST days).
    forecast_next_day : pandas.DataFrame
        One row per local hour of the next date with :data:`FORECAST_COLUMNS`, issued on this date.
    """

    service_date: dt.date
    observations: pd.DataFrame
    forecast_next_day: pd.DataFrame

    def condition_by_local_hour(self, timezone: str) -> tuple[str, ...]:
        """The observed condition of each local hour 0..23 (the first of a repeated DST hour)."""
        utc = pd.to_datetime(self.observations["observed_at_utc"], utc=True)
        hours = utc.dt.tz_convert(timezone).dt.hour.to_numpy()
        conditions = self.observations["condition"].to_numpy()
        by_hour: list[str] = []
        for hour in range(24):
            match = np.flatnonzero(hours == hour)
            # The hour skipped by the spring DST change takes the hour before it.
            by_hour.append(str(conditions[match[0]]) if match.size else by_hour[-1] if by_hour else "dry")
        return tuple(by_hour)


def simulate_weather(
    world: World, service_date: dt.date, seed: int, climate: Climate = DEFAULT_CLIMATE
) -> Weather:
    """Simulate the hourly weather of a date and the forecast for the next date, issued on it.

    Parameters
    ----------
    world : World
        The demo world (its time zone sets the local hours).
    service_date : datetime.date
        Date of the observations; the forecast covers the next date.
    seed : int
        Non-negative seed; the same (seed, date, climate) always gives equal frames.
    climate : Climate, default DEFAULT_CLIMATE
        Rain frequency and temperatures by month; pass a wetter climate (``Climate.with_month``) for a
        rainy world.

    Returns
    -------
    Weather
        Observations of ``service_date`` and a forecast that is a noisy copy of the observations that
        this function returns for ``service_date + 1``.
    """
    observations = _observations(service_date, seed, climate, world.timezone)
    next_day = service_date + dt.timedelta(days=1)
    truth_next = _observations(next_day, seed, climate, world.timezone)
    forecast = _forecast(truth_next, service_date, seed, world.timezone)
    return Weather(service_date, observations, forecast)


def _local_hours(service_date: dt.date, timezone: str) -> pd.DatetimeIndex:
    zone = ZoneInfo(timezone)
    start = pd.Timestamp(dt.datetime.combine(service_date, dt.time(), tzinfo=zone))
    end = pd.Timestamp(dt.datetime.combine(service_date + dt.timedelta(days=1), dt.time(), tzinfo=zone))
    return pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq="h", inclusive="left")


def _iso_utc(stamps: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(stamps).strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)


def _condition(precipitation_mm: np.ndarray, temperature_c: np.ndarray) -> np.ndarray:
    return np.where(
        precipitation_mm < _WET_MM,
        "dry",
        np.where(
            temperature_c < _SNOW_BELOW_C, "snow", np.where(precipitation_mm >= _HEAVY_MM, "heavy_rain", "rain")
        ),
    ).astype(object)


def _observations(service_date: dt.date, seed: int, climate: Climate, timezone: str) -> pd.DataFrame:
    rng = rng_for(seed, "weather", service_date.toordinal())
    hours_utc = _local_hours(service_date, timezone)
    local_hour = hours_utc.tz_convert(timezone).hour.to_numpy() + 0.5
    n = local_hour.size
    month = service_date.month - 1

    # Rain episodes: the hours they cover get a lognormal amount each; overlapping episodes add up.
    n_episodes = int(rng.poisson(climate.episodes_per_day[month]))
    starts = rng.uniform(0.0, 24.0, n_episodes)
    lengths = rng.exponential(climate.episode_hours, n_episodes)
    covered = (local_hour[:, None] >= starts) & (local_hour[:, None] < starts + np.maximum(lengths, 1.0))
    amounts = rng.lognormal(np.log(climate.intensity_mm_h), climate.intensity_sigma, (n, max(n_episodes, 1)))
    precipitation = np.round((covered * amounts[:, :n_episodes]).sum(axis=1), 1)

    anomaly = rng.normal(0.0, 2.5)
    diurnal = -np.cos(2 * np.pi * (local_hour - 4.0) / 24.0) * climate.daily_range_c / 2
    wet_cooling = np.where(precipitation >= _WET_MM, -1.5, 0.0)
    temperature = np.round(
        climate.mean_temperature_c[month] + anomaly + diurnal + wet_cooling + rng.normal(0.0, 0.4, n), 1
    )
    wind = np.round(rng.lognormal(np.log(climate.wind_kmh), 0.5) * rng.lognormal(0.0, 0.25, n), 1)
    return pd.DataFrame(
        {
            "observed_at_utc": _iso_utc(hours_utc),
            "temperature_c": temperature,
            "precipitation_mm": precipitation,
            "wind_kmh": wind,
            "condition": _condition(precipitation, temperature),
        },
        columns=list(OBSERVATION_COLUMNS),
    ).astype({"observed_at_utc": "str", "condition": "str"})


def _forecast(truth_next: pd.DataFrame, issue_date: dt.date, seed: int, timezone: str) -> pd.DataFrame:
    rng = rng_for(seed, "forecast", issue_date.toordinal())
    n = len(truth_next)
    shift = int(rng.choice(np.array(_FORECAST_SHIFT_HOURS)))
    true_mm = np.roll(truth_next["precipitation_mm"].to_numpy(dtype=float), shift)
    # Forecasts blur the timing of showers: spread each hour's rain over its neighbours.
    smooth_mm = np.convolve(np.pad(true_mm, 1, mode="edge"), np.array([0.25, 0.5, 0.25]), mode="valid")
    forecast_mm = np.round(smooth_mm * rng.lognormal(0.0, _FORECAST_PRECIP_SIGMA, n), 1)
    wet_signal = np.clip(smooth_mm / 0.5, 0.0, 1.0)
    probability = np.round(np.clip(0.05 + 0.85 * wet_signal + rng.normal(0.0, 0.08, n), 0.0, 1.0), 2)
    temperature = np.round(
        truth_next["temperature_c"].to_numpy(dtype=float)
        + rng.normal(0.0, _FORECAST_TEMP_SD_C)
        + rng.normal(0.0, 0.4, n),
        1,
    )
    issued = pd.Timestamp(
        dt.datetime.combine(issue_date, dt.time(_FORECAST_ISSUE_HOUR), tzinfo=ZoneInfo(timezone))
    ).tz_convert("UTC")
    return pd.DataFrame(
        {
            "issued_at_utc": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valid_at_utc": truth_next["observed_at_utc"].to_numpy(),
            "temperature_c": temperature,
            "precipitation_mm": forecast_mm,
            "precipitation_probability": probability,
            "condition": _condition(forecast_mm, temperature),
        },
        columns=list(FORECAST_COLUMNS),
    ).astype({"issued_at_utc": "str", "valid_at_utc": "str", "condition": "str"})
