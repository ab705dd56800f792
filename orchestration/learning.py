"""Fitting the learned models from the fleet's history: pure functions from observation frames to model tables.

Inputs are the learning marts (``marts.fct_travel_observations``, one row per leg driven; ``marts.fct_stop_attempts``,
one row per order attempted), outputs the rows of the ``models`` tables (:mod:`orchestration.model_store`) and the
objects the planner uses (:func:`travel_model_for_date`, :func:`service_estimates`, :func:`preferred_windows`).

- **Travel time**: a ridge regression of the log speed multiplier (planned duration at the vehicle's planning speed
  over the driven duration) on the local hour of departure, weekday, weather, speed zone of either end and vehicle
  (driver pace). Terms with little data shrink to the prior: the average speed for an hour, no effect for the others.
- **Service time**: time on site from the start of service, failed attempts included (they are part of what a stop
  costs), corrected for the driver's pace: a per-parcel slope per site type, then median / mean / p90 per site type,
  per site type and zone, and per customer, each shrunk towards the level above by its number of samples.
- **Availability**: first-attempt success by local hour of the start of service per zone (town) and customer, smoothed
  towards the level above (zone-hour towards the zone, customer-hour towards the zone-hour); the recommended window is
  the block of hours with the highest smoothed success.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from solver import SolveConfig
from solver.timing import DEFAULT_CELL_DEG, TimeDependentTravelModel, zone_cells

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEATHER = ("dry", "rain", "heavy_rain", "snow")
WEATHER_PRIOR = {"dry": 1.0, "rain": 0.92, "heavy_rain": 0.85, "snow": 0.75}
"""Speed multiplier of a condition against dry roads until legs driven in it have been observed: about what
traffic studies report for urban speeds in rain, heavy rain and snow (single-digit to tens of percent slower).
A condition the travel model has legs of uses its learned factor instead."""
WEATHER_PRIOR_VERSION = "weather-prior"
"""``version`` of the travel model :func:`weather_prior_model` makes (no learned model: constant speed with the
prior weather factors)."""
TRAINING_DAYS = 56
"""Days of history each version is trained on (the newest day included)."""
CIRCUITY = SolveConfig().circuity


@dataclass(frozen=True)
class Fit:
    """One fitted model: its table rows and how well it predicts a day it was not trained on.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Rows of each ``models.<table>`` (without the ``version`` column).
    n_samples : int
        Observations it was trained on.
    fit_error, baseline_error : float or None
        The error metric on the held-out newest day, for this model and for what the planner used before learning
        (None with fewer than two days of history).
    error_metric : str
        What the errors measure.
    """

    tables: dict[str, pd.DataFrame]
    n_samples: int
    fit_error: float | None
    baseline_error: float | None
    error_metric: str


def _holdout_split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(older days, newest day) when the frame covers at least two days, else None."""
    dates = pd.to_datetime(frame["service_date"]).dt.date
    if dates.nunique() < 2:
        return None
    newest = dates.max()
    return frame[dates < newest], frame[dates == newest]


# --- travel time ------------------------------------------------------------------------------------------------


def _usable_legs(legs: pd.DataFrame) -> pd.DataFrame:
    usable = legs[legs["exclusion_reason"].isna()].copy()
    usable["base_s"] = usable["straight_m"] * CIRCUITY / (usable["planning_speed_kmh"] / 3.6)
    return usable[(usable["base_s"] > 0) & (usable["duration_s"] > 0)]


def _leg_terms(legs: pd.DataFrame, cell_deg: float) -> dict[str, tuple[np.ndarray, float]]:
    """Term name -> (key per leg as str, weight in the design): the regression's one-hot blocks."""
    terms = {
        "hour": ((legs["depart_hour"].to_numpy() % 24).astype(str), 1.0),
        "weekday": (np.array(WEEKDAYS, dtype=object)[legs["weekday"].to_numpy(dtype=int)], 1.0),
        "weather": (legs["weather"].fillna("unknown").astype(str).to_numpy(dtype=object), 1.0),
        "zone_from": (zone_cells(legs["from_lat"].to_numpy(), legs["from_lon"].to_numpy(), cell_deg), 0.5),
        "zone_to": (zone_cells(legs["to_lat"].to_numpy(), legs["to_lon"].to_numpy(), cell_deg), 0.5),
        "vehicle": (legs["vehicle_id"].astype(str).to_numpy(dtype=object), 1.0),
    }
    return terms


def _column_keys(terms: Mapping[str, tuple[np.ndarray, float]]) -> list[tuple[str, str]]:
    """The design's columns after the intercept: (term, key); both zone ends share the 'zone' columns."""
    keys: set[tuple[str, str]] = set()
    for name, (values, _) in terms.items():
        term = "zone" if name.startswith("zone") else name
        keys.update((term, str(v)) for v in np.unique(values) if not (term == "weather" and v == "unknown"))
    return sorted(keys)


def _design(legs: pd.DataFrame, columns: Sequence[tuple[str, str]], cell_deg: float) -> sp.csr_matrix:
    index = {key: i + 1 for i, key in enumerate(columns)}
    n = len(legs)
    rows, cols, vals = [np.arange(n)], [np.zeros(n, dtype=np.int64)], [np.ones(n)]
    for name, (values, weight) in _leg_terms(legs, cell_deg).items():
        term = "zone" if name.startswith("zone") else name
        col = np.array([index.get((term, str(v)), -1) for v in values], dtype=np.int64)
        known = col >= 0
        rows.append(np.arange(n)[known])
        cols.append(col[known])
        vals.append(np.full(int(known.sum()), weight))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, len(columns) + 1)
    )


def _ridge(legs: pd.DataFrame, ridge: float, cell_deg: float) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Columns and coefficients (intercept first) of the log speed multiplier."""
    columns = _column_keys(_leg_terms(legs, cell_deg))
    x = _design(legs, columns, cell_deg)
    y = np.log(legs["base_s"].to_numpy() / legs["duration_s"].to_numpy())
    # Short legs carry whole-second rounding of the event times and parking manoeuvres: weigh them less.
    base = legs["base_s"].to_numpy()
    w = base / (base + 60.0)
    xtw = x.T.multiply(w).tocsr()
    gram = (xtw @ x).toarray()
    penalty = np.full(len(columns) + 1, ridge)
    penalty[0] = 0.0  # the intercept (the fleet's average speed against plan) is not shrunk
    coef = np.linalg.solve(gram + np.diag(penalty), xtw @ y)
    return columns, coef


def _predict_log_speed(legs: pd.DataFrame, columns: list[tuple[str, str]], coef: np.ndarray, cell_deg: float):
    return _design(legs, columns, cell_deg) @ coef


def fit_travel_time(legs: pd.DataFrame, *, ridge: float = 20.0, cell_deg: float = DEFAULT_CELL_DEG) -> Fit:
    """Fit the travel-time model from ``marts.fct_travel_observations`` rows.

    Parameters
    ----------
    legs
        Observed legs (excluded ones are skipped): ``service_date, vehicle_id, from_lat, from_lon, to_lat, to_lon,
        duration_s, straight_m, planning_speed_kmh, weekday, depart_hour, weather, exclusion_reason``.
    ridge
        Shrinkage in pseudo-observations: a term seen on ``ridge`` legs moves about halfway from the prior.
    cell_deg
        Size of the speed-zone cells, degrees.

    Returns
    -------
    Fit
        ``tables["travel_time_factors"]``: ``term, key, factor, n_samples``, where factor is a speed multiplier
        on the planning speed. The error is the mean absolute error of leg durations (s) on the held-out newest
        day, against the planner's constant speed.
    """
    usable = _usable_legs(legs)
    if usable.empty:
        raise ValueError("no usable legs to learn travel times from")
    columns, coef = _ridge(usable, ridge, cell_deg)
    counts: dict[tuple[str, str], int] = {}
    for name, (values, _) in _leg_terms(usable, cell_deg).items():
        term = "zone" if name.startswith("zone") else name
        keys, n = np.unique(values.astype(str), return_counts=True)
        for key, count in zip(keys, n, strict=True):
            counts[(term, key)] = counts.get((term, key), 0) + int(count)
    beta = dict(zip(columns, coef[1:], strict=True))
    rows = [
        ("hour", str(h), float(np.exp(coef[0] + beta.get(("hour", str(h)), 0.0))), counts.get(("hour", str(h)), 0))
        for h in range(24)
    ]
    rows += [
        ("weekday", d, float(np.exp(beta.get(("weekday", d), 0.0))), counts.get(("weekday", d), 0)) for d in WEEKDAYS
    ]
    rows += [
        ("weather", c, float(np.exp(beta.get(("weather", c), 0.0))), counts.get(("weather", c), 0)) for c in WEATHER
    ]
    rows += [
        (term, key, float(np.exp(b)), counts.get((term, key), 0))
        for (term, key), b in beta.items()
        if term in ("zone", "vehicle")
    ]
    factors = pd.DataFrame(rows, columns=["term", "key", "factor", "n_samples"])

    fit_error = baseline_error = None
    split = _holdout_split(usable)
    if split is not None and not split[0].empty:
        older, newest = split
        cols_old, coef_old = _ridge(older, ridge, cell_deg)
        predicted = newest["base_s"].to_numpy() / np.exp(_predict_log_speed(newest, cols_old, coef_old, cell_deg))
        fit_error = float(np.mean(np.abs(predicted - newest["duration_s"].to_numpy())))
        baseline_error = float(np.mean(np.abs(newest["base_s"].to_numpy() - newest["duration_s"].to_numpy())))
    return Fit(
        {"travel_time_factors": factors},
        len(usable),
        fit_error,
        baseline_error,
        "MAE of leg duration on the newest day, trained without it (s)",
    )


def factor_lookup(factors: pd.DataFrame, term: str) -> dict[str, float]:
    """``key -> factor`` of one term of ``models.travel_time_factors`` rows."""
    part = factors[factors["term"] == term]
    return dict(zip(part["key"].astype(str), part["factor"].astype(float), strict=True))


def travel_model_for_date(
    factors: pd.DataFrame,
    service_date: dt.date,
    weather_by_hour: Sequence[str | None] | None = None,
    *,
    version: str = "",
    cell_deg: float = DEFAULT_CELL_DEG,
) -> TimeDependentTravelModel:
    """The time-dependent travel model of one service date from a travel-time version's factors.

    Parameters
    ----------
    factors
        ``models.travel_time_factors`` rows of one version.
    service_date
        The date planned: its weekday picks the weekday factor.
    weather_by_hour
        Forecast condition for each local hour 0..23 (None or unknown: the sample-weighted average weather; a
        condition without observed legs: the dry factor times :data:`WEATHER_PRIOR`).
    """
    hour = factor_lookup(factors, "hour")
    weekday = factor_lookup(factors, "weekday").get(WEEKDAYS[service_date.weekday()], 1.0)
    weather = factor_lookup(factors, "weather")
    rows = factors[factors["term"] == "weather"]
    weights = rows["n_samples"].to_numpy(dtype=float)
    average = float(np.exp(np.average(np.log(rows["factor"]), weights=weights))) if weights.sum() > 0 else 1.0
    seen = set(rows["key"][rows["n_samples"] > 0].astype(str))

    def weather_factor(condition: str | None) -> float:
        if condition in weather and condition in seen:
            return weather[condition]
        if condition in WEATHER_PRIOR:  # never driven in yet: the prior against dry roads
            return (weather["dry"] if "dry" in seen else average) * WEATHER_PRIOR[condition]
        return average

    conditions = list(weather_by_hour) if weather_by_hour is not None else [None] * 24
    hour_factor = tuple(hour.get(str(h), 1.0) * weekday * weather_factor(conditions[h]) for h in range(24))
    return TimeDependentTravelModel(
        hour_factor=hour_factor,
        circuity=CIRCUITY,
        cell_deg=cell_deg,
        zone_factor=tuple(sorted(factor_lookup(factors, "zone").items())),
        vehicle_factor=tuple(sorted(factor_lookup(factors, "vehicle").items())),
        version=version,
    )


def weather_prior_model(weather_by_hour: Sequence[str | None], circuity: float) -> TimeDependentTravelModel | None:
    """The planner's constant speed with :data:`WEATHER_PRIOR` by hour, for an operation without a learned travel
    model that sees weather slower than dry (the live weather, :func:`orchestration.planning_inputs.nowcast_by_hour`);
    None when every hour is dry or unknown (the constant-speed model as it is)."""
    factors = tuple(WEATHER_PRIOR.get(c or "", 1.0) for c in weather_by_hour)
    if all(f == 1.0 for f in factors):
        return None
    return TimeDependentTravelModel(hour_factor=factors, circuity=circuity, version=WEATHER_PRIOR_VERSION)


# --- service time -----------------------------------------------------------------------------------------------

_STATS = ("median_s", "mean_s", "p90_s")


def _stats(values: pd.Series) -> pd.Series:
    return pd.Series(
        {"n_samples": len(values), "median_s": values.median(), "mean_s": values.mean(), "p90_s": values.quantile(0.9)}
    )


def _shrink(groups: pd.DataFrame, parent: pd.DataFrame, on: list[str], k: float) -> pd.DataFrame:
    """Shrink each group's statistics towards its parent's by ``n / (n + k)``."""
    merged = groups.merge(parent[on + list(_STATS)], on=on, how="left", suffixes=("", "_parent"))
    w = merged["n_samples"] / (merged["n_samples"] + k)
    for stat in _STATS:
        merged[stat] = w * merged[stat] + (1 - w) * merged[f"{stat}_parent"]
    return merged.drop(columns=[f"{s}_parent" for s in _STATS])


def _service_levels(
    attempts: pd.DataFrame, pace: Mapping[str, float], k_zone: float, k_customer: float, min_customer: int
) -> pd.DataFrame:
    frame = attempts[attempts["stop_s"] > 0].copy()
    frame["adjusted_s"] = frame["stop_s"] * frame["vehicle_id"].map(pace).fillna(1.0)
    slopes = {}
    for site, part in frame.groupby("site_type"):
        parcels = part["parcels"].to_numpy(dtype=float)
        if len(part) >= 20 and parcels.std() > 0:
            slope = float(np.polyfit(parcels, part["adjusted_s"].to_numpy(dtype=float), 1)[0])
        else:
            slope = 0.0
        slopes[site] = float(np.clip(slope, 0.0, 120.0))
    frame["per_parcel_s"] = frame["site_type"].map(slopes)
    frame["one_parcel_s"] = frame["adjusted_s"] - frame["per_parcel_s"] * (frame["parcels"] - 1).clip(lower=0)

    site = frame.groupby("site_type")["one_parcel_s"].apply(_stats).unstack().reset_index()
    site_zone = frame.groupby(["site_type", "zone"])["one_parcel_s"].apply(_stats).unstack().reset_index()
    site_zone = _shrink(site_zone, site, ["site_type"], k_zone)
    customer = frame.groupby("customer_id")["one_parcel_s"].apply(_stats).unstack()
    # A customer's site type and zone: the most frequent of its stops (an address rarely changes).
    home = frame.groupby(["customer_id", "site_type", "zone"]).size().rename("n").reset_index()
    home = home.sort_values(["customer_id", "n", "site_type", "zone"], ascending=[True, False, True, True])
    home = home.drop_duplicates("customer_id").set_index("customer_id")[["site_type", "zone"]]
    customer = customer.join(home).reset_index()
    customer = _shrink(customer[customer["n_samples"] >= min_customer], site_zone, ["site_type", "zone"], k_customer)
    levels = pd.concat(
        [
            site.assign(level="site_type", zone=None, customer_id=None),
            site_zone.assign(level="site_zone", customer_id=None),
            customer.assign(level="customer"),
        ],
        ignore_index=True,
    )
    levels["per_parcel_s"] = levels["site_type"].map(slopes)
    levels["n_samples"] = levels["n_samples"].astype(np.int64)
    return levels[["level", "site_type", "zone", "customer_id", "n_samples", *_STATS, "per_parcel_s"]]


def service_estimates(
    levels: pd.DataFrame, orders: pd.DataFrame, stat: str = "mean_s", fallback: pd.Series | None = None
) -> pd.Series:
    """Expected time on site (s) per order from ``models.service_times`` rows.

    ``orders`` has ``customer_id, site_type, zone, parcels``; the most specific level with an estimate wins
    (customer, then site type in the zone, then site type); orders of a site type the model has never seen get
    ``fallback`` (same index) or NaN.
    """
    out = pd.Series(np.nan, index=orders.index, dtype=float)
    per_parcel = pd.Series(np.nan, index=orders.index, dtype=float)
    for level, keys in (
        ("site_type", ["site_type"]),
        ("site_zone", ["site_type", "zone"]),
        ("customer", ["customer_id"]),
    ):
        rows = levels[levels["level"] == level][keys + [stat, "per_parcel_s"]]
        if rows.empty:
            continue
        hit = orders[keys].merge(rows, on=keys, how="left").set_index(orders.index)
        found = hit[stat].notna()
        out[found] = hit.loc[found, stat]
        per_parcel[found] = hit.loc[found, "per_parcel_s"]
    estimate = out + per_parcel * (orders["parcels"] - 1).clip(lower=0)
    if fallback is not None:
        estimate = estimate.fillna(fallback)
    return estimate


def fit_service_time(
    attempts: pd.DataFrame,
    pace: Mapping[str, float],
    priors: pd.DataFrame,
    *,
    k_zone: float = 20.0,
    k_customer: float = 5.0,
    min_customer: int = 1,
) -> Fit:
    """Fit service times from ``marts.fct_stop_attempts`` rows.

    Parameters
    ----------
    attempts
        ``service_date, customer_id, vehicle_id, site_type, zone, parcels, stop_s``.
    pace
        Driver pace per vehicle (the travel model's 'vehicle' factors): a stop of a driver with pace 1.1 took
        1/1.1 of the time an average driver would take.
    priors
        ``reference.service_time_priors`` (``site_type, base_service_s, per_extra_parcel_s``): the baseline.
    """
    levels = _service_levels(attempts, pace, k_zone, k_customer, min_customer)
    if levels.empty:
        raise ValueError("no stop attempts to learn service times from")
    fit_error = baseline_error = None
    split = _holdout_split(attempts[attempts["stop_s"] > 0])
    if split is not None and not split[0].empty:
        older, newest = split
        old_levels = _service_levels(older, pace, k_zone, k_customer, min_customer)
        pace_new = newest["vehicle_id"].map(pace).fillna(1.0)
        predicted = service_estimates(old_levels, newest) / pace_new
        prior = newest.merge(priors, on="site_type", how="left").set_index(newest.index)
        prior_s = prior["base_service_s"] + prior["per_extra_parcel_s"] * (newest["parcels"] - 1).clip(lower=0)
        known = predicted.notna() & prior_s.notna()
        if known.any():
            fit_error = float((predicted[known] - newest.loc[known, "stop_s"]).abs().mean())
            baseline_error = float((prior_s[known] - newest.loc[known, "stop_s"]).abs().mean())
    return Fit(
        {"service_times": levels},
        int((attempts["stop_s"] > 0).sum()),
        fit_error,
        baseline_error,
        "MAE of time on site on the newest day, trained without it (s)",
    )


# --- availability -----------------------------------------------------------------------------------------------


def _availability(
    attempts: pd.DataFrame, a_zone: float, a_customer: float, hours: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    frame = attempts.assign(
        hour=attempts["service_hour"].astype(int) % 24, success=attempts["is_success"].astype(bool).astype(int)
    )
    overall = (frame["success"].sum() + 1.0) / (len(frame) + 2.0)
    zone_day = frame.groupby("zone")["success"].agg(["sum", "count"])
    zone_day["rate"] = (zone_day["sum"] + a_zone * overall) / (zone_day["count"] + a_zone)
    grid = pd.MultiIndex.from_product([zone_day.index, list(hours)], names=["zone", "hour"]).to_frame(index=False)
    zone_hour = frame.groupby(["zone", "hour"])["success"].agg(successes="sum", attempts="count").reset_index()
    zone_hour = grid.merge(zone_hour, on=["zone", "hour"], how="left").fillna({"successes": 0, "attempts": 0})
    prior = zone_hour["zone"].map(zone_day["rate"])
    zone_hour["success_rate"] = (zone_hour["successes"] + a_zone * prior) / (zone_hour["attempts"] + a_zone)
    zone_hour["level"], zone_hour["customer_id"] = "zone", None

    customers = frame.groupby(["customer_id", "zone"]).size().rename("n").reset_index()
    cgrid = customers[["customer_id", "zone"]].merge(pd.DataFrame({"hour": list(hours)}), how="cross")
    cust_hour = frame.groupby(["customer_id", "hour"])["success"].agg(successes="sum", attempts="count")
    cgrid = cgrid.merge(cust_hour.reset_index(), on=["customer_id", "hour"], how="left")
    cgrid = cgrid.fillna({"successes": 0, "attempts": 0})
    cprior = cgrid.merge(zone_hour[["zone", "hour", "success_rate"]], on=["zone", "hour"], how="left")["success_rate"]
    cgrid["success_rate"] = (cgrid["successes"] + a_customer * cprior.to_numpy()) / (cgrid["attempts"] + a_customer)
    cgrid["level"] = "customer"
    table = pd.concat([zone_hour, cgrid], ignore_index=True)
    table[["attempts", "successes"]] = table[["attempts", "successes"]].astype(np.int64)
    table["hour"] = table["hour"].astype(np.int64)
    cols = ["level", "zone", "customer_id", "hour", "attempts", "successes", "success_rate"]
    return table[cols], zone_day, overall


def _best_windows(table: pd.DataFrame, window_hours: int) -> pd.DataFrame:
    """Per zone / customer: the block of ``window_hours`` consecutive hours with the highest mean success."""
    rows = []
    for (level, zone, customer), part in table.groupby(["level", "zone", "customer_id"], dropna=False, sort=True):
        part = part.sort_values("hour")
        rates = part["success_rate"].to_numpy()
        attempts = part["attempts"].to_numpy()
        hours = part["hour"].to_numpy()
        if len(rates) < window_hours:
            continue
        block = np.convolve(rates, np.ones(window_hours) / window_hours, mode="valid")
        best = int(np.argmax(block))
        day = float(np.average(rates, weights=attempts)) if attempts.sum() > 0 else float(rates.mean())
        rows.append(
            {
                "level": level,
                "zone": zone,
                "customer_id": None if pd.isna(customer) else customer,
                "window_start_s": int(hours[best]) * 3600,
                "window_end_s": int(hours[best] + window_hours) * 3600,
                "success_rate": float(block[best]),
                "day_success_rate": day,
                "lift": float(block[best]) - day,
                "attempts": int(attempts.sum()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "level",
            "zone",
            "customer_id",
            "window_start_s",
            "window_end_s",
            "success_rate",
            "day_success_rate",
            "lift",
            "attempts",
        ],
    )


def fit_availability(
    attempts: pd.DataFrame,
    *,
    a_zone: float = 10.0,
    a_customer: float = 3.0,
    window_hours: int = 2,
) -> Fit:
    """Fit customer availability from ``marts.fct_stop_attempts`` rows.

    Parameters
    ----------
    attempts
        ``service_date, customer_id, zone, service_hour, is_success``.
    a_zone, a_customer
        Smoothing in pseudo-attempts towards the level above.
    window_hours
        Length of the recommended window, hours.

    Returns
    -------
    Fit
        ``tables["availability"]`` and ``tables["recommended_windows"]``. The error is the Brier score of the
        predicted success of the newest day's attempts, against the zone's all-day success rate.
    """
    if attempts.empty:
        raise ValueError("no stop attempts to learn availability from")
    hours = range(int(attempts["service_hour"].min()), int(attempts["service_hour"].max()) + 1)
    table, _, _ = _availability(attempts, a_zone, a_customer, hours)
    windows = _best_windows(table, window_hours)

    fit_error = baseline_error = None
    split = _holdout_split(attempts)
    if split is not None and not split[0].empty:
        older, newest = split
        old_table, zone_day, overall = _availability(older, a_zone, a_customer, hours)
        keyed = old_table[old_table["level"] == "customer"].set_index(["customer_id", "hour"])["success_rate"]
        zoned = old_table[old_table["level"] == "zone"].set_index(["zone", "hour"])["success_rate"]
        hour = newest["service_hour"].astype(int) % 24
        p = pd.Series(keyed.reindex(list(zip(newest["customer_id"], hour, strict=True))).to_numpy(), index=newest.index)
        p = p.fillna(
            pd.Series(zoned.reindex(list(zip(newest["zone"], hour, strict=True))).to_numpy(), index=newest.index)
        ).fillna(overall)
        base = newest["zone"].map(zone_day["rate"]).fillna(overall)
        y = newest["is_success"].astype(float)
        fit_error = float(((p - y) ** 2).mean())
        baseline_error = float(((base - y) ** 2).mean())
    return Fit(
        {"availability": table, "recommended_windows": windows},
        len(attempts),
        fit_error,
        baseline_error,
        "Brier score of first-attempt success on the newest day, trained without it",
    )


def preferred_windows(windows: pd.DataFrame, orders: pd.DataFrame, *, min_lift: float = 0.1) -> pd.DataFrame:
    """The recommended window of each all-day order's customer (else its zone), where it beats the whole day.

    ``orders`` has ``order_id, customer_id, zone, is_all_day, tw_start_s, tw_end_s``. Returns ``order_id,
    preferred_tw_start_s, preferred_tw_end_s, lift`` for the all-day orders whose customer's (or, without
    customer history, zone's) recommended window lifts success by at least ``min_lift`` and lies inside the
    order's window.
    """
    all_day = orders[orders["is_all_day"].astype(bool)]
    customer = windows[windows["level"] == "customer"].set_index("customer_id")
    zone = windows[windows["level"] == "zone"].set_index("zone")
    pick = all_day[["order_id", "customer_id", "zone", "tw_start_s", "tw_end_s"]].copy()
    for col in ("window_start_s", "window_end_s", "lift"):
        pick[col] = pick["customer_id"].map(customer[col]).fillna(pick["zone"].map(zone[col]))
    pick = pick.dropna(subset=["window_start_s"])
    inside = (pick["window_start_s"] >= pick["tw_start_s"]) & (pick["window_end_s"] <= pick["tw_end_s"])
    pick = pick[inside & (pick["lift"] >= min_lift)]
    return pd.DataFrame(
        {
            "order_id": pick["order_id"],
            "preferred_tw_start_s": pick["window_start_s"].astype(np.int64),
            "preferred_tw_end_s": pick["window_end_s"].astype(np.int64),
            "lift": pick["lift"].astype(float),
        }
    ).reset_index(drop=True)
