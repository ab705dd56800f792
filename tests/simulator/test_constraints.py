"""Issue 6 in the demo world: its constraint master data and orders, and the execution of breaks, reloads,
second windows and routes that end at another depot."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from simulator import LiveDay, build_world, execute_plan, generate_orders, no_disruptions, write_master_data
from simulator.geography import haversine_m
from tests.simulator.execution_plans import hand_plan

from .conftest import SEED

DAY = dt.date(2026, 3, 3)  # a Tuesday in winter: offsets +01:00
START_S = 9 * 3600.0


def _local_s(ts: pd.Series) -> np.ndarray:
    local = pd.to_datetime(ts, utc=True).dt.tz_convert("Europe/Vaduz")
    return (local.dt.hour * 3600 + local.dt.minute * 60 + local.dt.second).to_numpy(dtype=float)


def test_master_data_carries_the_demo_constraints(default_world, tmp_path):
    """Vans: 240 parcels, up to 60 min overtime at 21 EUR/h; every type a 30-min break after 5 h (shifts over
    6 h); depots reload in 15 min, but no vehicle reloads or starts / ends elsewhere (the execution would not
    need to, but the demo keeps them out)."""
    write_master_data(default_world, tmp_path)
    types = pd.read_csv(tmp_path / "master" / "vehicle_types.csv", dtype=str, keep_default_na=False)
    van = types.set_index("vehicle_type").loc["van"]
    assert tuple(van[["capacity_parcels", "max_overtime_min", "overtime_cost_per_hour_eur"]]) == ("240", "60", "21.0")
    assert set(types["break_min"]) == {"30"} and set(types["break_after_h"]) == {"5.0"}
    assert set(types["max_reloads"]) == {"0"}
    others = types[types["vehicle_type"] != "van"]
    assert set(others["capacity_parcels"]) == {""} and set(others["max_overtime_min"]) == {"0"}
    vehicles = pd.read_csv(tmp_path / "master" / "vehicles.csv", dtype=str, keep_default_na=False)
    assert set(vehicles["start_depot_id"]) == {""} and set(vehicles["end_depot_id"]) == {""}
    depots = pd.read_csv(tmp_path / "master" / "depots.csv", dtype=str, keep_default_na=False)
    assert set(depots["reload_min"]) == {"15"}


def test_a_van_route_has_room_for_a_peak_days_parcels(default_world):
    """The parcel limit does not bind the demo: a December-peak Monday's parcels fit the vans with slack, even
    if the vans carried everything but the pallets and the cold chain."""
    orders = generate_orders(default_world, dt.date(2026, 12, 14), SEED)
    vans = [v for v in default_world.vehicles if v.vehicle_type == "van" and "Mon" in v.work_days]
    capacity = sum(default_world.vehicle_type("van").capacity_parcels for _ in vans)
    van_parcels = orders.loc[orders["required_skills"] == "", "parcels"].sum()
    assert van_parcels < 0.9 * capacity


@pytest.fixture(scope="module")
def weekday_orders(default_world) -> pd.DataFrame:
    days = [DAY + dt.timedelta(days=k) for k in range(4)]  # Tuesday to Friday
    return pd.concat([generate_orders(default_world, d, SEED) for d in days], ignore_index=True)


def test_about_five_percent_of_orders_offer_an_evening_window_after_their_first(weekday_orders):
    second = weekday_orders[weekday_orders["window2_start"] != ""]
    assert 0.03 <= len(second) / len(weekday_orders) <= 0.07
    assert (second["window2_start"].str[11:] == "18:00:00+01:00").all()
    assert (second["window2_end"].str[11:] == "20:00:00+01:00").all()
    assert (second["window2_start"].str[:10] == second["service_date"]).all()
    assert (second["window_end"] <= second["window2_start"]).all()
    assert (second["window_start"] != "").all()
    assert (weekday_orders.loc[weekday_orders["window2_start"] == "", "window2_end"] == "").all()


def test_a_few_orders_are_optional_or_mandatory_and_none_are_shipments(weekday_orders):
    """Optional: some returns (pickups only); mandatory: about 1% of the deliveries."""
    priority = weekday_orders["priority"]
    assert (weekday_orders.loc[priority == "optional", "order_type"] == "pickup").all()
    assert 0.001 <= (priority == "optional").mean() <= 0.04
    assert 0.003 <= (priority == "mandatory").mean() <= 0.02
    assert (weekday_orders["shipment_id"] == "").all()
    assert (weekday_orders["unserved_penalty_eur"] == "").all()


def test_orders_stay_deterministic_per_seed(default_world):
    a = generate_orders(default_world, DAY, SEED)
    pd.testing.assert_frame_equal(a, generate_orders(default_world, DAY, SEED))
    assert not a["window2_start"].equals(generate_orders(default_world, DAY, SEED + 1)["window2_start"])


@pytest.fixture(scope="module")
def small():
    return build_world("small", SEED)


@pytest.fixture(scope="module")
def plan(small):
    """Van V-SCH-01 from D-SCHAAN to six houses at 09:00, no waiting (all-day windows)."""
    return hand_plan(small, DAY, START_S)


def _events(execution, kind: str | None = None) -> pd.DataFrame:
    events = execution.stop_events
    return events if kind is None else events[events["event_type"] == kind]


def test_the_driver_pauses_for_the_break_after_the_planned_stop(small, plan):
    """With a 30-min break after stop 3, stop 4 is reached 1,800 s later than without (same seed: the same
    drive otherwise), the stops before are unchanged, and the vehicle stands still during the break."""
    orders, routes, stops = plan
    plain = execute_plan(small, DAY, orders, routes, stops, SEED)
    with_break = execute_plan(small, DAY, orders, routes.assign(break_after_sequence=3, break_s=1800), stops, SEED)
    a, b = (_events(x, "arrived").set_index("order_id")["ts_utc"] for x in (plain, with_break))
    shift = _local_s(b) - _local_s(a)
    order = stops.sort_values("sequence")["order_id"]
    by_order = dict(zip(a.index, shift, strict=True))
    assert [by_order[o] for o in order[:3]] == [0.0, 0.0, 0.0]
    # Legs after the break run at other hours: their speed may differ a little from the plain run's.
    assert all(abs(by_order[o] - 1800) <= 120 for o in order[3:])
    third = order.iloc[2]
    outcome = _events(with_break)
    done = _local_s(outcome[(outcome["order_id"] == third) & (outcome["event_type"] != "arrived")]["ts_utc"])[0]
    pings = with_break.pings
    during = pings[(_local_s(pings["ts_utc"]) > done + 60) & (_local_s(pings["ts_utc"]) < done + 1700)]
    assert len(during) > 0 and (during["speed_kmh"] < 1.0).all()


def test_a_break_at_the_depot_delays_the_departure(small, plan):
    orders, routes, stops = plan
    plain = execute_plan(small, DAY, orders, routes, stops, SEED)
    early = execute_plan(small, DAY, orders, routes.assign(break_after_sequence=0, break_s=1200), stops, SEED)
    a, b = (_local_s(_events(x, "depot_departure")["ts_utc"])[0] for x in (plain, early))
    assert b - a == pytest.approx(1200, abs=1)
    assert early.truth["departure_delay_s"].iloc[0] == plain.truth["departure_delay_s"].iloc[0]


def test_a_reload_drives_back_to_the_depot_and_loads_for_its_reload_time(small, plan):
    """Stops 4-6 on trip 2: the driver app records a return to D-SCHAAN and a departure 15 min later between
    stops 3 and 4, and the vehicle drives further than without the reload."""
    orders, routes, stops = plan
    two_trips = stops.assign(trip=np.where(stops["sequence"] <= 3, 1, 2))
    plain = execute_plan(small, DAY, orders, routes, stops, SEED)
    reload = execute_plan(small, DAY, orders, routes, two_trips, SEED)
    kinds = list(_events(reload)["event_type"])
    assert kinds.count("depot_return") == 2 and kinds.count("depot_departure") == 2
    third = list(_events(reload)["order_id"]).index(stops.sort_values("sequence")["order_id"].iloc[2])
    assert kinds[third : third + 5] == ["arrived", kinds[third + 1], "depot_return", "depot_departure", "arrived"]
    times = _local_s(_events(reload)["ts_utc"])
    assert times[third + 3] - times[third + 2] == pytest.approx(15 * 60, abs=1)
    depot = next(d for d in small.depots if d.depot_id == "D-SCHAAN")
    back = _events(reload).iloc[third + 2]
    assert haversine_m(float(back["lat"]), float(back["lon"]), depot.lat, depot.lon) < 100
    assert reload.truth["true_km"].iloc[0] > plain.truth["true_km"].iloc[0]
    again = execute_plan(small, DAY, orders, routes, two_trips, SEED)
    pd.testing.assert_frame_equal(reload.stop_events, again.stop_events)
    pd.testing.assert_frame_equal(reload.pings, again.pings)


def _evening_trip(stops: pd.DataFrame) -> pd.DataFrame:
    """Stops 4-6 on trip 2, stop 4 with a 16:00-18:00 window and a planned 10-min drive from the depot."""
    two = stops.assign(trip=np.where(stops["sequence"] <= 3, 1, 2), leg_duration_s=np.nan)
    fourth = two["sequence"] == 4
    two.loc[fourth, ["tw_start_s", "tw_end_s", "leg_duration_s"]] = [16 * 3600.0, 18 * 3600.0, 600.0]
    return two


def test_a_reload_ahead_of_a_later_window_waits_at_the_depot_not_at_the_stop(small, plan):
    """The driver loads for trip 2 and leaves when the drive gets it to stop 4 as its window opens (15:50 plus
    the usual departure slack), not at once to wait at the customer's door for hours; the events show the
    return, then the departure at about 15:50, then the arrival."""
    orders, routes, stops = plan
    played = execute_plan(small, DAY, orders, routes, _evening_trip(stops), SEED)
    events = _events(played)
    times = _local_s(events["ts_utc"])
    kinds = list(events["event_type"])
    back = kinds.index("depot_return")
    assert kinds[back : back + 3] == ["depot_return", "depot_departure", "arrived"]
    assert times[back] < 12 * 3600  # trip 1 ends before noon
    assert 16 * 3600 - 600 <= times[back + 1] <= 16 * 3600 - 600 + 2400 + 300
    fourth = stops.loc[stops["sequence"] == 4, "order_id"].iloc[0]
    assert events.iloc[back + 2]["order_id"] == fourth
    assert times[back + 2] >= 15 * 3600 + 50 * 60
    # Without the planned drive (a plan that does not say) the driver leaves once loaded, as before.
    eager = execute_plan(small, DAY, orders, routes, _evening_trip(stops).drop(columns="leg_duration_s"), SEED)
    e_times = _local_s(_events(eager)["ts_utc"])
    e_back = list(_events(eager)["event_type"]).index("depot_return")
    assert e_times[e_back + 1] - e_times[e_back] == pytest.approx(15 * 60, abs=1)


def test_a_plan_published_while_a_van_waits_at_the_depot_sends_it_out(small, plan):
    """Waiting at the depot for trip 2, the van takes the 12:00 version that puts stop 5 (all day) first on
    that trip: it leaves just after 12:00 for stop 5, hours before it would have left for stop 4."""
    orders, routes, stops = plan
    waiting = _evening_trip(stops)
    live = LiveDay(small, DAY, orders, no_disruptions(DAY, SEED), SEED)
    live.publish(routes, waiting, 0)
    live.advance(12 * 3600)
    swapped = waiting.copy()
    swapped.loc[swapped["sequence"] == 4, "sequence"] = 50
    swapped.loc[swapped["sequence"] == 5, ["sequence", "leg_duration_s"]] = [4, 600.0]
    swapped.loc[swapped["sequence"] == 50, ["sequence", "leg_duration_s"]] = [5, np.nan]
    swapped = swapped.sort_values("sequence").reset_index(drop=True)
    live.publish(routes, swapped, 12 * 3600)
    events = live.finish().stop_events
    times = _local_s(events["ts_utc"])
    kinds = list(events["event_type"])
    back = kinds.index("depot_return")
    assert times[back] < 12 * 3600 <= times[back + 1] <= 12 * 3600 + 2400 + 300
    fifth = stops.loc[stops["sequence"] == 5, "order_id"].iloc[0]
    assert kinds[back + 1 : back + 3] == ["depot_departure", "arrived"]
    assert events.iloc[back + 2]["order_id"] == fifth


def test_a_route_that_ends_at_another_depot_drives_there(small, plan):
    orders, routes, stops = plan
    moved = execute_plan(small, DAY, orders, routes.assign(end_depot_id="D-TRIESEN"), stops, SEED)
    back = _events(moved, "depot_return").iloc[-1]
    triesen = next(d for d in small.depots if d.depot_id == "D-TRIESEN")
    assert haversine_m(float(back["lat"]), float(back["lon"]), triesen.lat, triesen.lon) < 100


def test_the_driver_waits_for_the_second_window_the_plan_chose(small, plan):
    """Stop 2 has windows 07:00-08:00 and 17:00-18:00, and the plan serves it at 17:00: the van arrives in the
    morning, between them, and service (here: the outcome) comes after 17:00. Planned in the first window, it
    would be served at once (late)."""
    orders, routes, stops = plan
    second = stops.sort_values("sequence")["order_id"].iloc[1]
    on_it = stops["order_id"] == second
    windows = stops.assign(
        tw_start_s=np.where(on_it, 7 * 3600, stops["tw_start_s"]),
        tw_end_s=np.where(on_it, 8 * 3600, stops["tw_end_s"]),
        tw2_start_s=np.where(on_it, 17 * 3600, np.nan),
        tw2_end_s=np.where(on_it, 18 * 3600, np.nan),
    )
    planned_late = windows.assign(service_start_s=np.where(on_it, 17 * 3600, stops["service_start_s"]))
    chose_second = execute_plan(small, DAY, orders, routes, planned_late, SEED)
    chose_first = execute_plan(small, DAY, orders, routes, windows, SEED)
    for execution, served_after in ((chose_second, 17 * 3600), (chose_first, 0)):
        events = _events(execution)
        mine = events[events["order_id"] == second]
        arrived = _local_s(mine[mine["event_type"] == "arrived"]["ts_utc"])[0]
        outcome = _local_s(mine[mine["event_type"] != "arrived"]["ts_utc"])[0]
        assert 8 * 3600 < arrived < 17 * 3600
        assert outcome >= served_after
        if not served_after:
            assert outcome < 17 * 3600
