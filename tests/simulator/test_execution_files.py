"""Weather and the execution landing files (docs/data_contract.md section 4)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator import (
    DEFAULT_CLIMATE,
    Climate,
    execute_plan,
    execution_paths,
    generate_orders,
    simulate_weather,
    write_execution,
)
from simulator.execution import EVENT_COLUMNS, RATING_COLUMNS
from simulator.execution_landing import PING_SCHEMA
from simulator.weather import CONDITIONS, FORECAST_COLUMNS, OBSERVATION_COLUMNS
from tests.simulator.execution_plans import nearest_neighbour_plan

DAY = dt.date(2026, 3, 3)
SEED = 3
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def small_execution(small_world):
    """A small-world Tuesday played out with seed 3, and its weather."""
    orders = generate_orders(small_world, DAY, SEED)
    routes, stops = nearest_neighbour_plan(small_world, DAY, orders)
    weather = simulate_weather(small_world, DAY, SEED)
    return execute_plan(small_world, DAY, orders, routes, stops, SEED, weather=weather), weather


def test_weather_is_hourly_and_deterministic(small_world):
    """24 local hours on a normal day (23 on the spring DST day); same seed equal, other seed differs."""
    weather = simulate_weather(small_world, DAY, 1)
    obs = weather.observations
    assert list(obs.columns) == list(OBSERVATION_COLUMNS)
    assert len(obs) == 24 and obs["observed_at_utc"].str.match(ISO_UTC).all()
    assert obs["observed_at_utc"].iloc[0] == "2026-03-02T23:00:00Z"
    assert set(obs["condition"]) <= set(CONDITIONS)
    assert len(simulate_weather(small_world, dt.date(2026, 3, 29), 1).observations) == 23
    pd.testing.assert_frame_equal(obs, simulate_weather(small_world, DAY, 1).observations)
    assert not obs["temperature_c"].equals(simulate_weather(small_world, DAY, 2).observations["temperature_c"])


def test_forecast_is_close_to_the_next_days_observations(small_world):
    """Over 120 days the forecast issued on D tracks the observations of D + 1: temperature within ~2 degC,
    and a much higher rain probability on hours that turn out wet."""
    errors, p_wet, p_dry = [], [], []
    for i in range(120):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=3 * i)
        forecast = simulate_weather(small_world, day, 9).forecast_next_day
        observed = simulate_weather(small_world, day + dt.timedelta(days=1), 9).observations
        assert list(forecast.columns) == list(FORECAST_COLUMNS)
        assert (forecast["valid_at_utc"].to_numpy() == observed["observed_at_utc"].to_numpy()).all()
        assert forecast["issued_at_utc"].nunique() == 1 and forecast["issued_at_utc"].iloc[0] < observed[
            "observed_at_utc"].iloc[0]
        errors.append(forecast["temperature_c"].to_numpy() - observed["temperature_c"].to_numpy())
        wet = observed["precipitation_mm"].to_numpy() >= 0.1
        p_wet.append(forecast["precipitation_probability"].to_numpy()[wet])
        p_dry.append(forecast["precipitation_probability"].to_numpy()[~wet])
    assert np.abs(np.concatenate(errors)).mean() < 2.0
    assert np.concatenate(p_wet).mean() > np.concatenate(p_dry).mean() + 0.4


def test_summer_is_wetter_and_a_rainy_month_can_be_configured(small_world):
    """Rain episodes are seasonal (more wet hours in July than in February), and `Climate.with_month`
    makes a chosen month rainy."""

    def wet_share(month: int, climate: Climate) -> float:
        days = [dt.date(2026, month, d) for d in range(1, 29)]
        wet = [simulate_weather(small_world, d, 4, climate).observations["precipitation_mm"] >= 0.1 for d in days]
        return float(np.mean(np.concatenate(wet)))

    assert wet_share(7, DEFAULT_CLIMATE) > wet_share(2, DEFAULT_CLIMATE)
    rainy_february = DEFAULT_CLIMATE.with_month(2, 4.0)
    assert wet_share(2, rainy_february) > 2 * wet_share(2, DEFAULT_CLIMATE)


def test_files_have_the_contract_columns_and_types(tmp_path, small_execution):
    """The five files sit where section 4 says, with exactly its columns and formats."""
    execution, weather = small_execution
    written = write_execution(tmp_path, DAY, execution, weather)
    paths = execution_paths(tmp_path, DAY)
    assert written == list(paths.values())
    assert paths["pings"] == tmp_path / "telematics" / "pings_2026-03-03.parquet"
    assert pq.read_schema(paths["pings"]).remove_metadata() == PING_SCHEMA
    assert pq.read_table(paths["pings"]).num_rows == len(execution.pings)

    events = pd.read_csv(paths["stop_events"], dtype=str, keep_default_na=False)
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert (events["service_date"] == "2026-03-03").all()
    assert events["ts_utc"].str.match(ISO_UTC).all()
    assert events["event_type"].isin(["depot_departure", "arrived", "delivered", "failed", "depot_return"]).all()
    assert events["attempt"].str.fullmatch(r"\d*").all()
    assert ((events["attempt"] == "") == (events["order_id"] == "")).all()
    assert events["lat"].astype(float).between(47.0, 47.3).all()

    ratings = pd.read_csv(paths["ratings"], dtype=str, keep_default_na=False)
    assert list(ratings.columns) == list(RATING_COLUMNS)
    assert ratings["rating"].isin(list("12345")).all()
    assert ratings["rated_at_utc"].str.match(ISO_UTC).all()

    observations = pd.read_csv(paths["weather"], dtype=str, keep_default_na=False)
    assert list(observations.columns) == list(OBSERVATION_COLUMNS)
    forecast = pd.read_csv(paths["forecast"], dtype=str, keep_default_na=False)
    assert list(forecast.columns) == list(FORECAST_COLUMNS)
    assert forecast["precipitation_probability"].astype(float).between(0, 1).all()
    assert forecast["valid_at_utc"].iloc[0] == "2026-03-03T23:00:00Z"
    assert not list(tmp_path.rglob(".*.tmp"))


def test_rewriting_gives_identical_bytes_and_same_seed_same_files(tmp_path, small_world, small_execution):
    """Writing twice, or from a fresh run with the same seed, gives byte-identical files."""
    execution, weather = small_execution
    first = {p: p.read_bytes() for p in write_execution(tmp_path / "a", DAY, execution, weather)}
    again = {p: p.read_bytes() for p in write_execution(tmp_path / "a", DAY, execution, weather)}
    assert first == again
    orders = generate_orders(small_world, DAY, SEED)
    routes, stops = nearest_neighbour_plan(small_world, DAY, orders)
    fresh_weather = simulate_weather(small_world, DAY, SEED)
    fresh = execute_plan(small_world, DAY, orders, routes, stops, SEED, weather=fresh_weather)
    other = write_execution(tmp_path / "b", DAY, fresh, fresh_weather)
    assert [p.read_bytes() for p in other] == list(first.values())


def test_weather_of_another_date_is_rejected(tmp_path, small_world, small_execution):
    """Writing a day's execution with another day's weather raises ValueError."""
    execution, _ = small_execution
    with pytest.raises(ValueError, match="weather"):
        write_execution(tmp_path, DAY, execution, simulate_weather(small_world, DAY + dt.timedelta(days=1), 1))
