"""The live simulator: plan versions during the day, disruptions, drops and their files."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator import LiveDay, day_outcome, execute_plan, generate_orders, no_disruptions, scenario
from simulator.disruptions import CHANGE_COLUMNS, Breakdown, HeavyRain, LateStart, Scenario
from simulator.execution import EVENT_COLUMNS, _Day
from simulator.execution_landing import PING_SCHEMA
from simulator.live import drop_paths, write_drop
from simulator.weather import OBSERVATION_COLUMNS
from tests.simulator.execution_plans import nearest_neighbour_plan

DAY = dt.date(2026, 3, 3)  # a Tuesday in winter
SEED = 3
HOUR = 3600
REPLAN_S = 11 * HOUR
STEPS = list(range(6 * HOUR, 24 * HOUR + 1, HOUR // 2))  # a drop every half hour, the last at midnight


@pytest.fixture(scope="module")
def day_plan(small_world):
    """A small-world Tuesday (about 70 orders, 6 vans) routed by sweep + nearest neighbour."""
    orders = generate_orders(small_world, DAY, SEED)
    routes, stops = nearest_neighbour_plan(small_world, DAY, orders)
    return orders, routes, stops


@pytest.fixture(scope="module")
def planned_day(small_world, day_plan):
    """That plan played out by execute_plan with seed 3: the day without re-plans or disruptions, to its last stop
    (the sweep ignores shifts, so the tests here play it with ``working_day=False``)."""
    return execute_plan(small_world, DAY, *day_plan, SEED, working_day=False)


def _live(world, day_plan, disruptions: Scenario | None = None) -> LiveDay:
    orders, routes, stops = day_plan
    live = LiveDay(world, DAY, orders, disruptions or no_disruptions(DAY, SEED), SEED, working_day=False)
    live.publish(routes, stops, 0)
    return live


def _local_s(ts: pd.Series) -> np.ndarray:
    local = pd.to_datetime(ts, utc=True).dt.tz_convert("Europe/Vaduz")
    return (local.dt.hour * HOUR + local.dt.minute * 60 + local.dt.second).to_numpy(dtype=float)


def _without_ids(events: pd.DataFrame) -> pd.DataFrame:
    return events.drop(columns="event_id").reset_index(drop=True)


def _committed_prefix(events: pd.DataFrame, at_s: float) -> pd.DataFrame:
    """A vehicle's events up to the end of the stop it drives to or serves at ``at_s`` (all of them when its
    day ended before)."""
    t = _local_s(events["ts_utc"])
    ends = np.flatnonzero((t >= at_s) & events["event_type"].isin(["delivered", "failed", "depot_return"]).to_numpy())
    return _without_ids(events.iloc[: ends[0] + 1] if ends.size else events)


def _out_at(events: pd.DataFrame, at_s: float) -> list[str]:
    """Vehicles that left their depot before ``at_s`` and record events after it."""
    t = _local_s(events["ts_utc"])
    departed = set(events.loc[(t < at_s) & (events["event_type"] == "depot_departure"), "vehicle_id"])
    later = set(events.loc[(t > at_s + 1800) & (events["event_type"] == "arrived"), "vehicle_id"])
    return sorted(departed & later)


def _leg_s(events: pd.DataFrame, from_s: float, to_s: float) -> np.ndarray:
    """Driving times (s) of the legs into a stop that start in ``[from_s, to_s)``: from the event before an
    arrival to the arrival."""
    durations = []
    for _, mine in events.groupby("vehicle_id"):
        t = _local_s(mine["ts_utc"])
        into_stop = np.flatnonzero(mine["event_type"].to_numpy()[1:] == "arrived") + 1
        start = t[into_stop - 1]
        durations.append((t[into_stop] - start)[(start >= from_s) & (start < to_s)])
    return np.concatenate(durations)


def _reversed_after(stops: pd.DataFrame, after_s: float) -> pd.DataFrame:
    """Another plan version: each route's stops planned from ``after_s`` on in reverse order."""
    parts = []
    for _, route in stops.sort_values(["route_id", "sequence"]).groupby("route_id", sort=False):
        late = route["arrival_s"].to_numpy() >= after_s
        route = pd.concat([route[~late], route[late].iloc[::-1]], ignore_index=True)
        parts.append(route.assign(sequence=np.arange(1, len(route) + 1)))
    return pd.concat(parts, ignore_index=True)


def test_one_plan_published_at_the_start_plays_as_execute_plan(small_world, day_plan, planned_day):
    """Finished at once, the live day equals execute_plan in every frame; played in half-hour drops, its events,
    ratings, hidden truth and paths are still the same (only the sampled GPS fixes differ)."""
    whole = _live(small_world, day_plan).finish()
    for name in ("pings", "stop_events", "ratings", "truth", "paths"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(planned_day, name))
    assert whole.n_outliers == planned_day.n_outliers
    stepped = _live(small_world, day_plan)
    for to_s in STEPS:
        stepped.advance(to_s)
    day = stepped.finish()
    for name in ("stop_events", "ratings", "truth", "paths"):
        pd.testing.assert_frame_equal(getattr(day, name), getattr(planned_day, name))


def test_a_replan_changes_only_what_follows_each_vehicles_current_stop(small_world, day_plan, planned_day):
    """Re-planned at 11:00: every event before 11:00 is unchanged (ids included), each vehicle on the road still
    finishes the stop it was driving to or serving, and then follows the new order of its stops; every order
    is still attempted once."""
    orders, routes, stops = day_plan
    live = _live(small_world, day_plan)
    live.advance(REPLAN_S)
    live.publish(routes, _reversed_after(stops, REPLAN_S + 1800), REPLAN_S)
    replanned = live.finish().stop_events
    before = planned_day.stop_events[_local_s(planned_day.stop_events["ts_utc"]) < REPLAN_S]
    pd.testing.assert_frame_equal(replanned.iloc[: len(before)], before)

    out = _out_at(planned_day.stop_events, REPLAN_S)
    assert len(out) >= 3
    changed = 0
    for vehicle_id in out:
        old = planned_day.stop_events[planned_day.stop_events["vehicle_id"] == vehicle_id]
        new = replanned[replanned["vehicle_id"] == vehicle_id]
        pd.testing.assert_frame_equal(_committed_prefix(new, REPLAN_S), _committed_prefix(old, REPLAN_S))
        visits = [e["order_id"].tolist() for e in (old, new)]
        changed += visits[0] != visits[1]
    assert changed >= 2
    arrived = replanned.loc[replanned["event_type"] == "arrived", "order_id"]
    assert arrived.is_unique and set(arrived) == set(stops["order_id"])


def test_a_failed_stop_is_tried_again_when_a_new_plan_lists_it_again(small_world, day_plan, planned_day):
    """A re-plan at 14:00 that keeps an earlier failure as a failed stop and adds the order again later on the
    route gives a second attempt (attempt 2) after the re-plan; every other order is attempted once."""
    replan_s = 14 * HOUR
    orders, routes, stops = day_plan
    events = planned_day.stop_events
    t = _local_s(events["ts_utc"])
    out = _out_at(events, replan_s)
    failed = events[(events["event_type"] == "failed") & (t < replan_s - 1800) & events["vehicle_id"].isin(out)]
    assert len(failed) > 0
    retry = failed.iloc[0]
    retried = stops.assign(status=np.where(stops["order_id"] == retry["order_id"], "failed", "planned"))
    route = retried[retried["vehicle_id"] == retry["vehicle_id"]]
    again = route[route["order_id"] == retry["order_id"]].assign(
        sequence=route["sequence"].max() + 1, status="planned", tw_start_s=0, tw_end_s=86_399
    )
    live = _live(small_world, day_plan)
    live.advance(replan_s)
    live.publish(routes, pd.concat([retried, again], ignore_index=True), replan_s)
    replanned = live.finish().stop_events
    tries = replanned[(replanned["order_id"] == retry["order_id"]) & (replanned["event_type"] != "arrived")]
    assert tries["attempt"].tolist() == [1, 2]
    assert _local_s(tries["ts_utc"])[1] > replan_s
    assert (tries["vehicle_id"] == retry["vehicle_id"]).all()
    others = replanned[(replanned["order_id"] != retry["order_id"]) & (replanned["order_id"] != "")]
    assert (others["attempt"] == 1).all()
    with pytest.raises(ValueError, match="planned twice"):
        live_again = _live(small_world, day_plan)
        live_again.publish(routes, pd.concat([stops, again.drop(columns="status")], ignore_index=True), replan_s)


def test_a_failed_stop_retried_on_another_van_is_not_driven_to_again_by_the_van_that_failed(
    small_world, day_plan, planned_day
):
    """A re-plan that lists a failure on van B (done) and gives the retry to van A, whose id sorts before B's:
    only A makes the second attempt, at its place in A's route; B does not go back to the customer.

    The bug: a version numbered an order's stops in vehicle order, so A's retry was the order's first stop and
    B's failed one its second, which B then drove to again at once (in the default-scale day, vans re-tried
    households within minutes of failing there, in the hours they are out)."""
    replan_s = 14 * HOUR
    orders, routes, stops = day_plan
    events = planned_day.stop_events
    t = _local_s(events["ts_utc"])
    out = _out_at(events, replan_s)
    with_route = sorted(set(stops["vehicle_id"]))
    failed = events[
        (events["event_type"] == "failed")
        & (t < replan_s - 1800)
        & events["vehicle_id"].isin(out)
        & (events["vehicle_id"] > with_route[0])
    ]
    assert len(failed) > 0
    retry = failed.iloc[0]
    van_a = with_route[0]
    assert van_a < retry["vehicle_id"]
    retried = stops.assign(status=np.where(stops["order_id"] == retry["order_id"], "failed", "planned"))
    route_a = retried[retried["vehicle_id"] == van_a]
    again = retried[retried["order_id"] == retry["order_id"]].assign(
        route_id=route_a["route_id"].iloc[0],
        vehicle_id=van_a,
        sequence=route_a["sequence"].max() + 1,
        status="planned",
        tw_start_s=0,
        tw_end_s=86_399,
    )
    live = _live(small_world, day_plan)
    live.advance(replan_s)
    live.publish(routes, pd.concat([retried, again], ignore_index=True), replan_s)
    replanned = live.finish().stop_events
    tries = replanned[replanned["order_id"] == retry["order_id"]]
    tries = tries[tries["event_type"].isin(["delivered", "failed"])]
    assert tries["attempt"].tolist() == [1, 2]
    assert tries["vehicle_id"].tolist() == [retry["vehicle_id"], van_a]
    assert _local_s(tries["ts_utc"])[1] > replan_s
    back = replanned[
        (replanned["vehicle_id"] == retry["vehicle_id"]) & (replanned["order_id"] == retry["order_id"])
    ]
    assert (_local_s(back["ts_utc"]) < replan_s).all()


def test_a_broken_down_van_stops_and_the_others_drive_on_unchanged(small_world, day_plan, planned_day):
    """After its breakdown event a van records nothing more and sends no fix; its remaining stops are never
    attempted; every other van's day is exactly as without the breakdown."""
    events = planned_day.stop_events
    vehicle_id = _out_at(events, 10.5 * HOUR)[0]
    broken = Scenario("breakdown", SEED, DAY, (Breakdown(vehicle_id, int(10.5 * HOUR)),))
    day = _live(small_world, day_plan, broken).finish()
    mine = day.stop_events[day.stop_events["vehicle_id"] == vehicle_id]
    assert mine["event_type"].tolist().count("breakdown") == 1 and mine["event_type"].iloc[-1] == "breakdown"
    broken_s = _local_s(mine["ts_utc"])[-1]
    assert broken_s >= 10.5 * HOUR
    pings = day.pings[day.pings["vehicle_id"] == vehicle_id]
    assert _local_s(pings["ts_utc"]).max() <= broken_s + 1
    old = events[events["vehicle_id"] == vehicle_id]
    not_done = set(old.loc[_local_s(old["ts_utc"]) > broken_s + 1, "order_id"]) - {""}
    assert not_done and not not_done & set(day.stop_events["order_id"])
    others = day.stop_events[day.stop_events["vehicle_id"] != vehicle_id]
    pd.testing.assert_frame_equal(_without_ids(others), _without_ids(events[events["vehicle_id"] != vehicle_id]))
    outcome = day_outcome(day, day_plan[0], broken)
    assert outcome["not_attempted"] == len(not_done)


def test_cancelled_orders_are_never_delivered(small_world, day_plan):
    """Orders cancelled in the morning get no events (the driver app drops them, even without a re-plan); every
    other planned order is attempted once; the cancellations arrive in the drops of their time."""
    orders, _, stops = day_plan
    cancellations = scenario(small_world, DAY, "cancellations", 1, orders=orders)
    cancelled = {d.order_id for d in cancellations.disruptions}
    live = _live(small_world, day_plan, cancellations)
    drops = [live.advance(to_s) for to_s in STEPS]
    day = live.finish()
    assert not cancelled & set(day.stop_events["order_id"])
    arrived = day.stop_events.loc[day.stop_events["event_type"] == "arrived", "order_id"]
    assert arrived.is_unique and set(arrived) == set(stops["order_id"]) - cancelled
    for d in cancellations.disruptions:
        (drop,) = [drop for drop in drops if d.order_id in set(drop.order_changes["order_id"])]
        assert drop.from_s <= d.at_s < drop.to_s
    outcome = day_outcome(day, orders, cancellations)
    assert outcome["cancelled"] == len(cancelled) and outcome["orders"] == len(orders) - len(cancelled)
    assert outcome["cancelled_delivered"] == 0


def test_new_orders_exist_from_their_time_and_are_served_only_when_planned(small_world, day_plan):
    """New orders appear in the drop of their receipt and no earlier; without a re-plan they are never served
    (unserved); a re-plan at 13:00 that puts them on a route gets each attempted once, after 13:00."""
    orders, routes, stops = day_plan
    new_orders = scenario(small_world, DAY, "new_orders", 2, orders=orders)
    new = {d.order_id: d for d in new_orders.disruptions}
    assert new
    live = _live(small_world, day_plan, new_orders)
    drops = [live.advance(to_s) for to_s in STEPS]
    seen = pd.concat([drop.order_changes.assign(to_s=drop.to_s) for drop in drops], ignore_index=True)
    assert sorted(seen["order_id"]) == sorted(new) and (seen["change_type"] == "new").all()
    for row in seen.itertuples():
        assert row.to_s - HOUR // 2 <= new[row.order_id].at_s < row.to_s
    day = live.finish()
    assert not set(new) & set(day.stop_events["order_id"])
    outcome = day_outcome(day, orders, new_orders)
    assert outcome["orders"] == len(orders) + len(new) and outcome["not_attempted"] >= len(new)

    replan_s = 13 * HOUR
    live = _live(small_world, day_plan, new_orders)
    live.advance(replan_s)
    vehicle_id = _out_at(live.finish().stop_events, replan_s)[0]
    route = stops[stops["vehicle_id"] == vehicle_id]
    added = pd.DataFrame(
        {
            "route_id": route["route_id"].iloc[0],
            "vehicle_id": vehicle_id,
            "sequence": route["sequence"].max() + 1 + np.arange(len(new)),
            "order_id": list(new),
            "lat": [d.order["lat"] for d in new.values()],
            "lon": [d.order["lon"] for d in new.values()],
            "arrival_s": replan_s,
            "service_start_s": replan_s,
            "departure_s": replan_s,
            "tw_start_s": 0,
            "tw_end_s": 86_399,
        }
    )
    live = _live(small_world, day_plan, new_orders)
    live.advance(replan_s)
    live.publish(routes, pd.concat([stops, added], ignore_index=True), replan_s)
    events = live.finish().stop_events
    arrived = events[(events["event_type"] == "arrived") & events["order_id"].isin(list(new))]
    assert sorted(arrived["order_id"]) == sorted(new)
    assert (_local_s(arrived["ts_utc"]) > replan_s).all()


def test_drops_are_disjoint_and_add_up_to_the_day(small_world, day_plan):
    """Under the mixed scenario, each drop holds the fixes and events of its half hour only, event ids carry on
    from drop to drop, and the drops together are exactly the finished day; the same calls give the same day."""
    orders = day_plan[0]
    mixed = scenario(small_world, DAY, "mixed", 3, orders=orders)
    live = _live(small_world, day_plan, mixed)
    drops = [live.advance(to_s) for to_s in STEPS]
    day = live.finish()
    for drop in drops:
        for frame in (drop.pings, drop.events):
            t = _local_s(frame["ts_utc"])
            assert ((t >= drop.from_s) & (t < drop.to_s)).all()
    pings = pd.concat([drop.pings for drop in drops], ignore_index=True)
    events = pd.concat([drop.events for drop in drops], ignore_index=True)
    pd.testing.assert_frame_equal(pings, day.pings)
    pd.testing.assert_frame_equal(events, day.stop_events)
    assert events["event_id"].is_unique and len(events) > 0 and len(pings) > 1000
    again = _live(small_world, day_plan, mixed)
    for to_s in STEPS:
        again.advance(to_s)
    pd.testing.assert_frame_equal(again.finish().pings, day.pings)


def test_drop_files_land_atomically_with_the_contract_columns(small_world, day_plan, tmp_path, monkeypatch):
    """Each file is written under a hidden temporary name in its folder and renamed; names carry the drop's
    time; columns and Parquet schema are the contract's; a drop is never rewritten; empty parts are left out."""
    orders = day_plan[0]
    live = _live(small_world, day_plan, scenario(small_world, DAY, "new_orders", 2, orders=orders))
    early = live.advance(10 * HOUR)
    drop = live.advance(13 * HOUR)
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((src, dst)), real_replace(src, dst))[1])
    written = write_drop(tmp_path, drop)
    paths = drop_paths(tmp_path, DAY, "130000")
    assert written == [paths["pings"], paths["events"], paths["order_changes"], paths["weather"]]
    assert paths["pings"].parent == tmp_path / "live" / "2026-03-03"
    assert [os.path.dirname(src) for src, _ in renames] == [str(paths["pings"].parent)] * 4
    assert all(os.path.basename(src).startswith(".") for src, _ in renames)
    assert sorted(p.name for p in paths["pings"].parent.iterdir()) == sorted(p.name for p in written)
    assert pq.read_schema(paths["pings"]).remove_metadata() == PING_SCHEMA
    assert pq.read_table(paths["pings"]).num_rows == len(drop.pings)
    events = pd.read_csv(paths["events"], dtype=str, keep_default_na=False)
    assert list(events.columns) == list(EVENT_COLUMNS) and len(events) == len(drop.events)
    changes = pd.read_csv(paths["order_changes"], dtype=str, keep_default_na=False)
    assert list(changes.columns) == list(CHANGE_COLUMNS) and len(changes) == len(drop.order_changes)
    assert (changes["service_date"] == "2026-03-03").all()
    weather = pd.read_csv(paths["weather"], dtype=str, keep_default_na=False)
    assert list(weather.columns) == list(OBSERVATION_COLUMNS)
    assert list(_local_s(weather["observed_at_utc"]) // HOUR) == [10, 11, 12]
    with pytest.raises(FileExistsError):
        write_drop(tmp_path, drop)
    assert early.order_changes.empty
    assert [p.name for p in write_drop(tmp_path, early)] == [
        "pings_100000.parquet", "events_100000.csv", "weather_100000.csv",
    ]  # fmt: skip


def test_weather_observations_reach_the_drop_of_their_hour(small_world, day_plan):
    """Each hourly observation is in exactly one drop, the one whose interval holds its time; together the drops
    hold the day's weather as it really was, so the heavy rain of a scenario shows in the drop of its first hour
    although the forecast did not have it."""
    rain = Scenario("heavy_rain", SEED, DAY, (HeavyRain(12 * HOUR + 1200, 15 * HOUR),))
    live = _live(small_world, day_plan, rain)
    drops = [live.advance(to_s) for to_s in STEPS]
    for drop in drops:
        t = _local_s(drop.weather["observed_at_utc"])
        assert ((t >= drop.from_s) & (t < drop.to_s)).all()
    observed = pd.concat([d.weather for d in drops], ignore_index=True)
    pd.testing.assert_frame_equal(observed, live.weather.observations[list(OBSERVATION_COLUMNS)])
    first_wet = next(d for d in drops if set(d.weather["condition"]) & {"heavy_rain", "snow"})
    assert (first_wet.from_s, first_wet.to_s) == (12 * HOUR, 12 * HOUR + HOUR // 2)


def test_heavy_rain_slows_the_day_from_its_start(small_world, day_plan, planned_day):
    """Heavy rain from 12:00: events before it are unchanged, arrivals after it come later, and the weather of
    the day observes heavy rain in those hours."""
    rain = Scenario("heavy_rain", SEED, DAY, (HeavyRain(12 * HOUR, 16 * HOUR),))
    live = _live(small_world, day_plan, rain)
    day = live.finish()
    dry, wet = planned_day.stop_events, day.stop_events
    before = dry[_local_s(dry["ts_utc"]) < 12 * HOUR]
    pd.testing.assert_frame_equal(wet.iloc[: len(before)], before)
    legs = [_leg_s(e, 12 * HOUR, 16 * HOUR) for e in (dry, wet)]
    assert legs[0].size > 10 and legs[1].mean() > 1.1 * legs[0].mean()
    observed = live.weather.observations
    hours = _local_s(observed["observed_at_utc"]) // HOUR
    assert set(observed.loc[(hours >= 12) & (hours < 16), "condition"]) <= {"heavy_rain", "snow"}


def test_a_late_start_delays_the_first_departure_by_exactly_its_delay(small_world, day_plan, planned_day):
    """The late van leaves 45 min after it would have; the other vans' days do not change."""
    vehicle_id = planned_day.stop_events["vehicle_id"].iloc[0]
    late = Scenario("late_start", SEED, DAY, (LateStart(vehicle_id, 7 * HOUR, 45 * 60),))
    day = _live(small_world, day_plan, late).finish()

    def first_departure(events):
        mine = events[(events["vehicle_id"] == vehicle_id) & (events["event_type"] == "depot_departure")]
        return _local_s(mine["ts_utc"])[0]

    assert first_departure(day.stop_events) - first_departure(planned_day.stop_events) == pytest.approx(2700, abs=1)
    truth = day.truth.set_index("vehicle_id")["departure_delay_s"]
    assert truth[vehicle_id] - planned_day.truth.set_index("vehicle_id")["departure_delay_s"][vehicle_id] == 2700
    others = [e[e["vehicle_id"] != vehicle_id] for e in (day.stop_events, planned_day.stop_events)]
    pd.testing.assert_frame_equal(_without_ids(others[0]), _without_ids(others[1]))


def test_day_outcome_adds_up(small_world, day_plan, planned_day):
    """Delivered, failed and not attempted partition the open orders; unserved = failed + not attempted; km and
    hours come from the hidden truth."""
    outcome = day_outcome(planned_day, day_plan[0], no_disruptions(DAY))
    assert outcome["orders"] == len(day_plan[0])
    assert outcome["delivered"] + outcome["failed"] + outcome["not_attempted"] == outcome["orders"]
    assert outcome["unserved"] == outcome["failed"] + outcome["not_attempted"]
    assert outcome["delivered"] == (planned_day.stop_events["event_type"] == "delivered").sum()
    assert 0 < outcome["on_time"] <= outcome["delivered"]
    assert outcome["km"] == pytest.approx(planned_day.truth["true_km"].sum())
    assert 0 < outcome["driving_h"] < outcome["route_h"]


def test_plans_and_steps_cannot_go_back_in_time(small_world, day_plan):
    """A plan for a time already played, or a step backwards, raise ValueError; a finished day takes no more."""
    orders, routes, stops = day_plan
    live = _live(small_world, day_plan)
    live.advance(REPLAN_S)
    with pytest.raises(ValueError, match="before"):
        live.publish(routes, stops, REPLAN_S - 60)
    with pytest.raises(ValueError, match="back"):
        live.advance(REPLAN_S - 60)
    live.finish()
    with pytest.raises(ValueError, match="finished"):
        live.advance(23 * HOUR)


def test_a_road_is_the_same_drawn_with_a_plan_or_alone(small_world, day_plan):
    """The path between two places and its speed noise do not depend on which other legs a plan drives: drawn in
    a plan's batch or alone (a leg no plan had, after a skipped stop), it is the same."""
    orders, _, stops = day_plan
    day = _Day(small_world, DAY, orders, no_disruptions(DAY, SEED), SEED, None)
    depot = small_world.depots[0]
    places = [(depot.depot_id, depot.lat, depot.lon)] + list(
        stops[["order_id", "lat", "lon"]].head(4).itertuples(index=False, name=None)
    )
    pairs = [(*a, *b) for a, b in zip(places[:-1], places[1:], strict=True)]
    day._add_roads(pairs)
    alone = _Day(small_world, DAY, orders, no_disruptions(DAY, SEED), SEED, None)
    for pair in pairs[::-1]:
        for batch, single in zip(day.roads[(pair[0], pair[3])], alone._road(*pair), strict=True):
            np.testing.assert_array_equal(batch, single)
