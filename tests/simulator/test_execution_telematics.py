"""Telematics pings of the execution simulator: on the path, with realistic faults, and a distance contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from simulator import execute_plan, generate_orders
from simulator.roads import CIRCUITY, LocalProjection
from simulator.telematics import PING_COLUMNS
from tests.simulator.execution_plans import clean_pings, km_by_vehicle, nearest_neighbour_plan

DAY = dt.date(2026, 3, 3)
SEED = 5


@pytest.fixture(scope="module")
def default_day(default_world):
    """A default-scale Tuesday (about 1,050 orders), sweep + nearest-neighbour plan, played with seed 5 to its last
    stop (the sweep ignores shifts)."""
    orders = generate_orders(default_world, DAY, SEED)
    routes, stops = nearest_neighbour_plan(default_world, DAY, orders)
    return execute_plan(default_world, DAY, orders, routes, stops, SEED, working_day=False)


@pytest.fixture(scope="module")
def small_day(small_world):
    """A small-world Tuesday (about 70 orders), played with seed 5 to its last stop (the sweep ignores shifts)."""
    orders = generate_orders(small_world, DAY, SEED)
    routes, stops = nearest_neighbour_plan(small_world, DAY, orders)
    return execute_plan(small_world, DAY, orders, routes, stops, SEED, working_day=False)


def _distance_to_path_m(pings: pd.DataFrame, path: pd.DataFrame) -> np.ndarray:
    """Distance of each ping to the nearest point of the path polyline (metres, local projection)."""
    projection = LocalProjection(47.15, 9.52)
    px, py = projection.to_xy(pings["lat"].to_numpy(), pings["lon"].to_numpy())
    vx, vy = projection.to_xy(path["lat"].to_numpy(), path["lon"].to_numpy())
    ax, ay, bx, by = vx[:-1], vy[:-1], vx[1:], vy[1:]
    dx, dy = bx - ax, by - ay
    length2 = np.maximum(dx**2 + dy**2, 1e-9)
    f = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / length2, 0.0, 1.0)
    return np.hypot(px[:, None] - (ax + f * dx), py[:, None] - (ay + f * dy)).min(axis=1)


def test_pings_have_the_contract_columns(default_day):
    """Columns and dtypes of the vendor export: string id, UTC microsecond timestamps, doubles."""
    pings = default_day.pings
    assert list(pings.columns) == list(PING_COLUMNS)
    assert str(pings["ts_utc"].dtype) == "datetime64[us, UTC]"
    for col in ("lat", "lon", "speed_kmh", "heading_deg"):
        assert pings[col].dtype == np.float64
    assert pings["heading_deg"].between(0, 360, inclusive="left").all()
    assert (pings["speed_kmh"] >= 0).all()


def test_pings_follow_the_true_path_except_injected_outliers(small_day):
    """Every ping lies within 60 m of its vehicle's true path, except the injected outliers (>= 80 m off)."""
    far = []
    for vehicle_id, pings in small_day.pings.groupby("vehicle_id"):
        distance = _distance_to_path_m(pings, small_day.paths[small_day.paths["vehicle_id"] == vehicle_id])
        far.append(distance[distance > 60.0])
    far = np.concatenate(far)
    assert far.size <= small_day.n_outliers
    assert (far >= 80.0).all()


def test_pings_are_timed_10_to_30_s_apart_while_moving(default_day):
    """While moving, consecutive fixes are at most 30 s apart except in gaps (most within 10-30 s)."""
    pings = default_day.pings.drop_duplicates().sort_values(["vehicle_id", "ts_utc"], kind="stable")
    same = pings["vehicle_id"].to_numpy()[1:] == pings["vehicle_id"].to_numpy()[:-1]
    moving = (pings["speed_kmh"].to_numpy()[1:] > 0) & (pings["speed_kmh"].to_numpy()[:-1] > 0)
    dt_s = np.diff(pings["ts_utc"].astype("int64").to_numpy()) / 1e6
    hops = dt_s[same & moving]
    assert np.mean(hops <= 30.0) > 0.97
    assert hops.min() >= 1.0


def test_a_default_day_has_every_kind_of_fault(default_day):
    """Duplicates, out-of-order records, gaps of 1-5 min and single-fix outliers all occur in a default day."""
    pings = default_day.pings
    assert pings.duplicated().sum() > 10
    out_of_order = pings.groupby("vehicle_id")["ts_utc"].apply(lambda ts: (ts.diff() < pd.Timedelta(0)).sum())
    assert out_of_order.sum() > 10
    clean = clean_pings(pings)
    same = clean["vehicle_id"].to_numpy()[1:] == clean["vehicle_id"].to_numpy()[:-1]
    moving = (clean["speed_kmh"].to_numpy()[1:] > 0) & (clean["speed_kmh"].to_numpy()[:-1] > 0)
    dt_s = np.diff(clean["ts_utc"].astype("int64").to_numpy()) / 1e6
    assert (same & moving & (dt_s > 60)).sum() >= 5
    assert default_day.n_outliers >= 3
    assert len(pings.drop_duplicates()) - len(clean) >= default_day.n_outliers


def test_distance_from_cleaned_pings_is_within_2_percent_of_true_km(default_day, small_day):
    """The contract for the warehouse: dedupe, sort, drop 100 m detour spikes -> km within 2% per vehicle."""
    for day in (default_day, small_day):
        km = km_by_vehicle(clean_pings(day.pings))
        truth = day.truth.set_index("vehicle_id")["true_km"]
        error = (km.reindex(truth.index) / truth - 1).abs()
        assert error.max() < 0.02, error.sort_values().tail(3)


def test_uncleaned_pings_overstate_the_distance(default_day):
    """Without dropping spikes the outliers add distance: the cleaning step matters."""
    raw = km_by_vehicle(default_day.pings.drop_duplicates().sort_values(["vehicle_id", "ts_utc"]))
    clean = km_by_vehicle(clean_pings(default_day.pings))
    assert (raw >= clean - 1e-9).all() and (raw - clean).sum() > 0.5


def test_true_path_is_about_1_3_times_the_straight_line(small_day):
    """Each leg's true path is about the planner's circuity (1.3) times its straight line."""
    from simulator.geography import haversine_m

    paths = small_day.paths
    per_leg = paths.groupby("leg")
    ratios = []
    for _, leg in per_leg:
        lat, lon = leg["lat"].to_numpy(), leg["lon"].to_numpy()
        chord = haversine_m(lat[0], lon[0], lat[-1], lon[-1])
        if chord > 200:
            ratios.append(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum() / chord)
    assert np.mean(ratios) == pytest.approx(CIRCUITY, abs=0.03)
    assert min(ratios) > 1.15 and max(ratios) < 1.5


def test_ping_volume_of_a_default_day(default_world):
    """A default weekday (about 1,000 orders) gives 10-80k pings (how fast it simulates is a benchmark's business,
    not a test's)."""
    orders = generate_orders(default_world, DAY, 1)
    routes, stops = nearest_neighbour_plan(default_world, DAY, orders)
    day = execute_plan(default_world, DAY, orders, routes, stops, 1)
    assert 10_000 < len(day.pings) < 80_000
