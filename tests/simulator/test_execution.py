"""The execution simulator: timeline, stop events, ratings and the hidden truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from simulator import Climate, build_world, execute_plan, generate_orders, simulate_weather
from simulator.disruptions import hhmm_s
from simulator.execution import EVENT_COLUMNS, FAILURE_REASONS, RATING_COLUMNS, TRUTH_COLUMNS
from simulator.geography import haversine_m
from tests.simulator.execution_plans import hand_plan, nearest_neighbour_plan

DAY = dt.date(2026, 3, 3)  # a Tuesday in winter
SEED = 11
DRY = Climate(episodes_per_day=(0.0,) * 12)
WET = Climate(episodes_per_day=(60.0,) * 12, intensity_mm_h=2.0)
OVERRUN_S = 600.0  # how far past the working day's end a van may come home: its last stop ran over its typical time


@pytest.fixture(scope="module")
def day_plan(default_world):
    """A default-scale Tuesday (about 1,050 orders) routed by sweep + nearest neighbour."""
    orders = generate_orders(default_world, DAY, SEED)
    routes, stops = nearest_neighbour_plan(default_world, DAY, orders)
    return orders, routes, stops


@pytest.fixture(scope="module")
def day(default_world, day_plan):
    """That plan played out with seed 11, every stop of it: the sweep ignores shifts, so the drivers work on past
    their working day (``working_day=False``)."""
    return execute_plan(default_world, DAY, *day_plan, SEED, working_day=False)


def _local_s(ts: pd.Series) -> np.ndarray:
    local = pd.to_datetime(ts, utc=True).dt.tz_convert("Europe/Vaduz")
    return (local.dt.hour * 3600 + local.dt.minute * 60 + local.dt.second).to_numpy(dtype=float)


def test_same_seed_same_frames_and_other_seed_differs(default_world, day_plan, day):
    """Deterministic by (seed, date): a re-run gives equal frames; another seed gives other events."""
    again = execute_plan(default_world, DAY, *day_plan, SEED, working_day=False)
    for name in ("pings", "stop_events", "ratings", "truth", "paths"):
        pd.testing.assert_frame_equal(getattr(day, name), getattr(again, name))
    other = execute_plan(default_world, DAY, *day_plan, SEED + 1, working_day=False)
    assert not other.stop_events["ts_utc"].equals(day.stop_events["ts_utc"])
    assert not other.pings["lat"].equals(day.pings["lat"])


def test_every_planned_stop_gets_one_arrival_and_one_outcome_in_planned_order(day_plan, day):
    """Each stop: one `arrived`, then one `delivered`/`failed`; per vehicle in planned order and in time order."""
    _, routes, stops = day_plan
    events = day.stop_events
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert events["event_id"].is_unique
    on_stop = events[events["order_id"] != ""]
    counts = on_stop.groupby(["order_id", "event_type"]).size().unstack(fill_value=0)
    assert set(counts.index) == set(stops["order_id"])
    assert (counts["arrived"] == 1).all()
    assert (counts.get("delivered", 0) + counts.get("failed", 0) == 1).all()
    for vehicle_id, group in events.groupby("vehicle_id", sort=False):
        ts = pd.to_datetime(group["ts_utc"], utc=True)
        assert ts.is_monotonic_increasing, vehicle_id
        kinds = group["event_type"].tolist()
        assert kinds[0] == "depot_departure" and kinds[-1] == "depot_return"
        planned = stops[stops["vehicle_id"] == vehicle_id].sort_values("sequence")["order_id"].tolist()
        assert group.loc[group["event_type"] == "arrived", "order_id"].tolist() == planned
        # Every arrival is followed directly by the outcome of the same order.
        arrived = group.reset_index(drop=True)
        at = np.flatnonzero(arrived["event_type"] == "arrived")
        assert arrived.loc[at + 1, "event_type"].isin(["delivered", "failed"]).all()
        assert (arrived.loc[at + 1, "order_id"].to_numpy() == arrived.loc[at, "order_id"].to_numpy()).all()
    assert set(events["vehicle_id"]) == set(routes["vehicle_id"])
    assert (events["driver_id"] == "DRV-" + events["vehicle_id"]).all()


def test_no_stop_is_started_that_the_driver_cannot_finish_within_the_working_day(default_world, day_plan, day):
    """The sweep plan ignores shifts, so some vans have stops past their shift's end plus paid overtime. A driver
    starts no leg to a stop that, by the drive there, the stop's typical service and the drive back, would end after
    that: the van drives back to its depot, and the stops left are never attempted. It comes home by the working
    day's end, give or take its last stop running over (at most ``OVERRUN_S``); the rule of starting no leg after
    the day's end brought vans home up to a stop and a drive later. Up to there, the day is the one played without
    the limit."""
    _, _, stops = day_plan
    limited = execute_plan(default_world, DAY, *day_plan, SEED)
    types = {vt.vehicle_type: vt for vt in default_world.vehicle_types}
    day_end = {
        v.vehicle_id: hhmm_s(v.shift_end) + 60 * types[v.vehicle_type].max_overtime_min for v in default_world.vehicles
    }
    cut = 0
    for vehicle_id, group in limited.stop_events.groupby("vehicle_id", sort=False):
        group = group.reset_index(drop=True)
        t = _local_s(group["ts_utc"])
        at = np.flatnonzero(group["event_type"] == "arrived")
        leaves = t[at - 1]  # the event before an arrival ends the stop or the depot stay the leg starts from
        assert (leaves < day_end[vehicle_id]).all(), vehicle_id
        assert group["event_type"].iloc[-1] == "depot_return"
        assert t[-1] <= day_end[vehicle_id] + OVERRUN_S, vehicle_id
        planned = stops[stops["vehicle_id"] == vehicle_id]
        if len(at) < len(planned):
            cut += 1
            # The stop it skipped would have ended the day late: in the day without the limit, it came home late.
            unlimited_end = _local_s(day.stop_events.loc[day.stop_events["vehicle_id"] == vehicle_id, "ts_utc"])[-1]
            assert unlimited_end > day_end[vehicle_id], vehicle_id
        unlimited = day.stop_events[day.stop_events["vehicle_id"] == vehicle_id].reset_index(drop=True)
        served = group.iloc[: at[-1] + 2] if len(at) else group.iloc[:1]
        pd.testing.assert_frame_equal(
            served.drop(columns="event_id"), unlimited.iloc[: len(served)].drop(columns="event_id")
        )
    assert cut >= 1


def test_failure_reasons_only_on_failed_events_and_first_attempts(day):
    """`failure_reason` is set exactly on `failed` events, from the contract's list; attempt is 1 on stops."""
    events = day.stop_events
    failed = events["event_type"] == "failed"
    assert set(events.loc[failed, "failure_reason"]) <= set(FAILURE_REASONS)
    assert (events.loc[~failed, "failure_reason"] == "").all()
    on_stop = events["order_id"] != ""
    assert (events.loc[on_stop, "attempt"] == 1).all()
    assert events.loc[~on_stop, "attempt"].isna().all()
    assert events.loc[failed, "failure_reason"].value_counts().index[0] == "not_home"


def test_events_are_located_near_their_stop(day_plan, day):
    """Driver-app positions lie within 50 m of the planned stop (phone GPS error of a few metres)."""
    _, _, stops = day_plan
    on_stop = day.stop_events[day.stop_events["order_id"] != ""].merge(
        stops[["order_id", "lat", "lon"]], on="order_id", suffixes=("", "_stop")
    )
    distance = haversine_m(on_stop["lat"], on_stop["lon"], on_stop["lat_stop"], on_stop["lon_stop"])
    assert distance.max() < 50.0


def test_vehicles_wait_for_the_window_and_never_skip(day_plan, day):
    """Nobody is served before the window opens: the outcome comes at or after tw_start + some service."""
    _, _, stops = day_plan
    outcome = day.stop_events[day.stop_events["event_type"].isin(["delivered", "failed"])]
    joined = outcome.merge(stops[["order_id", "tw_start_s"]], on="order_id")
    assert (_local_s(joined["ts_utc"]) >= joined["tw_start_s"].to_numpy()).all()


def test_truth_has_one_row_per_vehicle_and_true_km_is_the_path_length(day_plan, day):
    """`truth`: the contract columns, one row per vehicle; true_km = length of the `paths` polyline."""
    _, routes, _ = day_plan
    truth = day.truth
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    assert sorted(truth["vehicle_id"]) == sorted(routes["vehicle_id"].unique())
    for vehicle_id, path in day.paths.groupby("vehicle_id"):
        lat, lon = path["lat"].to_numpy(), path["lon"].to_numpy()
        km = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum() / 1000
        assert km == pytest.approx(truth.set_index("vehicle_id").loc[vehicle_id, "true_km"], rel=1e-9)
    assert truth["driver_factor"].between(0.8, 1.3).all()
    assert (truth["departure_delay_s"] >= 0).all()


def test_driver_factor_is_stable_across_days_and_seeds(default_world, day):
    """The same vehicle has the same driver factor on another date and with another seed."""
    other_day = DAY + dt.timedelta(days=1)
    orders = generate_orders(default_world, other_day, 3)
    routes, stops = nearest_neighbour_plan(default_world, other_day, orders, max_stops=3)
    other = execute_plan(default_world, other_day, orders, routes, stops, 3)
    merged = day.truth.merge(other.truth, on="vehicle_id")
    assert len(merged) > 5
    assert np.allclose(merged["driver_factor_x"], merged["driver_factor_y"])
    assert merged["driver_factor_x"].nunique() > 1


def test_rain_makes_the_same_plan_slower(small_world):
    """Same plan and seed, wet vs dry weather: arrivals come later on average."""
    orders, routes, stops = hand_plan(small_world, DAY, 10 * 3600.0)
    dry = simulate_weather(small_world, DAY, SEED, DRY)
    wet = simulate_weather(small_world, DAY, SEED, WET)
    assert set(dry.observations["condition"]) == {"dry"}
    assert set(wet.observations["condition"]) <= {"rain", "heavy_rain", "snow"}
    arrivals = {}
    for name, weather in (("dry", dry), ("wet", wet)):
        events = execute_plan(small_world, DAY, orders, routes, stops, SEED, weather=weather).stop_events
        arrivals[name] = _local_s(events.loc[events["event_type"] == "arrived", "ts_utc"])
    assert arrivals["wet"].mean() > arrivals["dry"].mean() + 60
    assert (arrivals["wet"] >= arrivals["dry"]).all()


def test_morning_peak_legs_are_slower_than_late_morning_legs(small_world):
    """The same route driven from 08:00 takes longer on the road than from 11:00 (rush hour)."""
    weather = simulate_weather(small_world, DAY, SEED, DRY)

    def driving_s(start_s: float) -> float:
        orders, routes, stops = hand_plan(small_world, DAY, start_s, n_stops=3)
        events = execute_plan(small_world, DAY, orders, routes, stops, SEED, weather=weather).stop_events
        t = _local_s(events["ts_utc"])
        starts = events["event_type"].isin(["depot_departure", "delivered", "failed"]).to_numpy()
        ends = events["event_type"].isin(["arrived", "depot_return"]).to_numpy()
        return float((t[ends] - t[starts]).sum())

    assert driving_s(8 * 3600.0) > 1.1 * driving_s(11 * 3600.0)


def test_customers_fail_more_often_in_hours_their_profile_says_away(default_world, day_plan, day):
    """Stops served in hours of low presence probability (< 0.5) fail more often than high ones (> 0.8)."""
    orders, _, _ = day_plan
    profile = {c.customer_id: c.presence_profile for c in default_world.customers}
    p_by_hour = {p.name: p.p_by_hour for p in default_world.truth.presence_profiles}
    outcome = day.stop_events[day.stop_events["event_type"].isin(["delivered", "failed"])]
    outcome = outcome.merge(orders[["order_id", "customer_id"]], on="order_id")
    hour = (_local_s(outcome["ts_utc"]) // 3600).astype(int)
    p_home = np.array([p_by_hour[profile[c]][h] for c, h in zip(outcome["customer_id"], hour, strict=True)])
    failed = (outcome["event_type"] == "failed").to_numpy()
    low, high = p_home < 0.5, p_home > 0.8
    assert low.sum() > 50 and high.sum() > 50
    assert failed[low].mean() > failed[high].mean() + 0.3


def test_ratings_are_lower_when_late(day_plan, day):
    """About a quarter of deliveries are rated 1-5; late deliveries are rated lower; failed ones get 1-2."""
    orders, _, stops = day_plan
    ratings = day.ratings
    assert list(ratings.columns) == list(RATING_COLUMNS)
    assert ratings["rating"].between(1, 5).all()
    events = day.stop_events
    delivered = events.loc[events["event_type"] == "delivered", ["order_id", "ts_utc"]]
    arrived = events.loc[events["event_type"] == "arrived", ["order_id", "ts_utc"]]
    assert 0.15 < ratings["order_id"].isin(delivered["order_id"]).sum() / len(delivered) < 0.35
    late = arrived.merge(stops[["order_id", "tw_end_s"]], on="order_id")
    late["late"] = _local_s(late["ts_utc"]) > late["tw_end_s"].to_numpy() + 15 * 60
    rated = ratings.merge(late, on="order_id").merge(delivered[["order_id"]], on="order_id")
    assert rated["late"].sum() >= 10 and (~rated["late"]).sum() >= 10
    assert rated.loc[rated["late"], "rating"].mean() < rated.loc[~rated["late"], "rating"].mean() - 0.5
    failed_ids = events.loc[events["event_type"] == "failed", "order_id"]
    assert ratings.loc[ratings["order_id"].isin(failed_ids), "rating"].isin([1, 2]).all()
    customer = orders.set_index("order_id")["customer_id"]
    assert (ratings["customer_id"].to_numpy() == customer.loc[ratings["order_id"]].to_numpy()).all()


def test_some_routes_leave_the_depot_late(default_world, day_plan):
    """Over a few seeds, a few percent of routes leave 10-40 min late; the rest within 5 min."""
    delays = np.concatenate([execute_plan(default_world, DAY, *day_plan, s).truth["departure_delay_s"]
                             for s in range(6)])
    late = delays > 600
    assert 0 < late.sum() < 0.15 * delays.size
    assert delays[late].max() <= 2400 and delays[~late].max() <= 300


def test_unknown_ids_are_rejected(small_world):
    """A vehicle that is not in the world, or a stop whose order is missing, raises a plain ValueError."""
    orders, routes, stops = hand_plan(small_world, DAY, 9 * 3600.0)
    with pytest.raises(ValueError, match="vehicle"):
        execute_plan(small_world, DAY, orders, routes.assign(vehicle_id="V-NOPE"), stops, 1)
    with pytest.raises(ValueError, match="order"):
        execute_plan(small_world, DAY, orders.iloc[1:], routes, stops, 1)
    with pytest.raises(ValueError, match="lacks"):
        execute_plan(small_world, DAY, orders, routes.drop(columns="depot_id"), stops, 1)
    with pytest.raises(ValueError, match="weather"):
        execute_plan(small_world, DAY, orders, routes, stops, 1,
                     weather=simulate_weather(build_world("small", 7), DAY + dt.timedelta(days=1), 1))
