"""Tests of solver.replan: re-planning a depot's day from the live state, and validate_replan.

The instances sit on the meridian through the depot (see conftest.py): an order ``k`` km north is ``1.3 * k`` km
away by road and the vans drive 10 m/s, so legs and times can be read off by hand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from solver import (
    LiveState,
    Problem,
    ReplanConfig,
    Unassigned,
    VehicleState,
    haversine_m,
    remaining_problem,
    replan,
    solve,
    validate_replan,
)
from tests.solver.factories import HOUR, SEARCH, depot, order_north, random_problem, van

AS_OF = 8 * HOUR + 100
"""V-01 leaves at 08:00; at 08:01:40 it is on its way to its first stop (the nearest order is 1.3 km of road away:
arrival at 08:02:10 at the earliest), whichever order the morning plan visits first."""


def _config(**kwargs) -> ReplanConfig:
    fields = dict(time_budget_s=5.0, seed=1, solve_config=SEARCH)
    fields.update(kwargs)
    return ReplanConfig(**fields)


@pytest.fixture
def two_sides_day() -> tuple[Problem, object]:
    """Three 5 kg orders 1, 2, 3 km south and three north; two 15 kg vans, V-01 from 08:00, V-02 from 10:00.

    The morning plan gives each van one side (V-01 leaves first, V-02 two hours later).
    """
    orders = tuple(order_north(f"S{k}", -k, weight_g=5000) for k in (1, 2, 3))
    orders += tuple(order_north(f"N{k}", k, weight_g=5000) for k in (1, 2, 3))
    vans = (van("V-01", capacity_weight_g=15_000), van("V-02", capacity_weight_g=15_000, shift_start_s=10 * HOUR))
    problem = Problem(depot=depot(), orders=orders, vehicles=vans)
    return problem, solve(problem, SEARCH)


def _route(plan, vehicle_id):
    return next((r for r in plan.routes if r.vehicle_id == vehicle_id), None)


def _state_at(problem, plan, t, **kwargs) -> LiveState:
    """The live state at ``t`` if every vehicle drove its plan exactly: stops left by ``t`` are delivered, the next
    one is committed (done at its planned departure), the rest of the route is on board of a vehicle that left."""
    by_id = {o.order_id: o for o in problem.orders}
    vehicles, delivered = [], set()
    for route in plan.routes:
        departed = route.start_s <= t
        done = tuple(replace(s, status="delivered") for s in route.stops if s.departure_s <= t)
        delivered |= {s.order_id for s in done}
        rest = [s for s in route.stops if s.departure_s > t]
        committed = rest[0] if departed and rest else None
        where = by_id[committed.order_id] if committed else problem.depot
        vehicles.append(
            VehicleState(
                vehicle_id=route.vehicle_id,
                departed=departed,
                lat=where.lat,
                lon=where.lon,
                at_s=t,
                committed_order_id=committed.order_id if committed else None,
                committed_done_s=committed.departure_s if committed else None,
                on_board=tuple(s.order_id for s in rest) if departed else (),
                done=done,
            )
        )
    fields = dict(service_date="2026-03-02", as_of_s=t, vehicles=tuple(vehicles), delivered=frozenset(delivered))
    fields.update(kwargs)
    return LiveState(**fields)


def _new_stops(route):
    return [s for s in route.stops if s.status == "planned"]


def test_done_stops_are_kept_and_the_committed_stop_comes_next(two_sides_day):
    """Finished stops open V-01's route unchanged (times, status), its committed stop follows them, and the plan
    passes validate_replan."""
    problem, plan = two_sides_day
    v1 = _route(plan, "V-01")
    t = v1.stops[1].departure_s + 10  # two stops done, driving to the third
    state = _state_at(problem, plan, t)
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    route = _route(result.plan, "V-01")
    assert [(s.order_id, s.arrival_s, s.departure_s, s.status) for s in route.stops[:2]] == [
        (s.order_id, s.arrival_s, s.departure_s, "delivered") for s in v1.stops[:2]
    ]
    assert route.stops[2].order_id == v1.stops[2].order_id
    assert route.stops[2].status == "committed"
    assert all(s.status == "planned" for s in route.stops[3:])


def test_departed_vehicle_continues_from_its_committed_stop(two_sides_day):
    """V-01's first new stop is reached from its committed stop when that is done, not from the depot."""
    problem, plan = two_sides_day
    state = _state_at(problem, plan, AS_OF)
    vs = next(v for v in state.vehicles if v.vehicle_id == "V-01")
    result = replan(problem, plan, state, _config(move_penalty_eur=0.0))
    route = _route(result.plan, "V-01")
    committed, first_new = route.stops[0], route.stops[1]
    assert committed.order_id == vs.committed_order_id
    by_id = {o.order_id: o for o in problem.orders}
    a, b = by_id[committed.order_id], by_id[first_new.order_id]
    from_committed = round(1.3 * haversine_m(a.lat, a.lon, b.lat, b.lon))
    from_depot = round(1.3 * haversine_m(0.0, 0.0, b.lat, b.lon))
    assert from_committed != from_depot
    assert abs(first_new.leg_distance_m - from_committed) <= 1
    assert first_new.arrival_s >= vs.committed_done_s + first_new.leg_duration_s
    assert validate_replan(problem, result.plan, state, _config(move_penalty_eur=0.0)) == []


def test_cancelled_orders_are_removed(two_sides_day):
    """Orders cancelled during the day (one V-01 is driving to, one on V-02's route) are on no route and not
    unassigned; Replan.cancelled lists them, and V-01 drives on from where it is."""
    problem, plan = two_sides_day
    committed = _route(plan, "V-01").stops[0].order_id
    waiting = _route(plan, "V-02").stops[-1].order_id
    state = _state_at(problem, plan, AS_OF, cancelled=frozenset({committed, waiting}))
    result = replan(problem, plan, state, _config())
    on_routes = {s.order_id for r in result.plan.routes for s in r.stops}
    assert {committed, waiting}.isdisjoint(on_routes)
    assert {committed, waiting}.isdisjoint(u.order_id for u in result.plan.unassigned)
    assert result.cancelled == tuple(sorted({committed, waiting}))
    assert validate_replan(problem, result.plan, state, _config()) == []
    first = _route(result.plan, "V-01").stops[0]
    assert first.arrival_s - first.leg_duration_s >= AS_OF


def test_changed_window_is_honoured(two_sides_day):
    """N3 asks for 14:00-14:30: it is served then."""
    problem, plan = two_sides_day
    window = (14 * HOUR, 14 * HOUR + 1800)
    state = _state_at(problem, plan, AS_OF, windows={"N3": (window,)})
    result = replan(problem, plan, state, _config())
    (stop,) = [s for r in result.plan.routes for s in r.stops if s.order_id == "N3"]
    assert window[0] <= stop.service_start_s <= window[1]
    assert validate_replan(problem, result.plan, state, _config()) == []


def test_new_order_is_inserted_at_the_depot_or_after_a_reload(two_sides_day):
    """A new order is planned: on V-02, which has not left, or on V-01 (on the road) after a reload, on a later trip
    than the one under way (its committed stop's). Parcels on board may ride along to that trip."""
    problem, plan = two_sides_day
    state = _state_at(problem, plan, AS_OF, new_orders=(order_north("NEW", 4),))
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    (route,) = [r for r in result.plan.routes if "NEW" in {s.order_id for s in r.stops}]
    stop = next(s for s in route.stops if s.order_id == "NEW")
    assert stop.status == "planned"
    if route.vehicle_id == "V-01":
        (committed,) = [s for s in route.stops if s.status == "committed"]
        assert stop.trip > committed.trip


def test_new_order_rides_a_departed_van_only_after_a_reload(two_sides_day):
    """With V-01 on the road as the only vehicle, a new order goes on it after a reload at the depot, on a later
    trip than what it has on board."""
    problem, plan = two_sides_day
    v1 = _route(plan, "V-01")
    loaded = {s.order_id for s in v1.stops}
    problem = replace(
        problem, orders=tuple(o for o in problem.orders if o.order_id in loaded), vehicles=problem.vehicles[:1]
    )
    plan = replace(plan, routes=(v1,))
    new = order_north("NEW", -0.5)
    state = _state_at(problem, plan, AS_OF, new_orders=(new,))
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    route = _route(result.plan, "V-01")
    position = {s.order_id: s for s in route.stops}
    assert "NEW" in position
    assert position["NEW"].trip > max(position[o].trip for o in loaded if o in position)
    assert any(r.after_sequence < position["NEW"].sequence for r in route.reloads)


def test_on_board_orders_never_move_to_another_vehicle(two_sides_day):
    """V-01's parcels stay on V-01 even when V-02, free and without move penalty, would be cheaper for them."""
    problem, plan = two_sides_day
    state = _state_at(problem, plan, AS_OF)
    # At 50 EUR/km for V-01, its parcels would be far cheaper on V-02, which has room for them.
    v1, v2 = problem.vehicles
    slow = replace(problem, vehicles=(replace(v1, cost_per_km_eur=50.0), replace(v2, capacity_weight_g=30_000)))
    result = replan(slow, plan, state, _config(move_penalty_eur=0.0))
    assert validate_replan(slow, result.plan, state, _config(move_penalty_eur=0.0)) == []
    on_board = set(next(v for v in state.vehicles if v.vehicle_id == "V-01").on_board)
    v2 = _route(result.plan, "V-02")
    assert on_board.isdisjoint(s.order_id for s in v2.stops)
    assert on_board <= {s.order_id for s in _route(result.plan, "V-01").stops}


def test_broken_down_vehicle_gets_no_new_stops(two_sides_day):
    """V-01 breaks down after its first stop: it keeps that stop only; its parcels go out on V-02 after they are
    back at the depot (breakdown + recovery), or are unassigned with a reason."""
    problem, plan = two_sides_day
    v1 = _route(plan, "V-01")
    t = v1.stops[0].departure_s + 30
    state = _state_at(problem, plan, t)
    vs = next(v for v in state.vehicles if v.vehicle_id == "V-01")
    state = replace(state, vehicles=tuple(replace(v, broken_down_s=t) if v is vs else v for v in state.vehicles))
    config = _config(recovery_s=2 * HOUR)
    result = replan(problem, plan, state, config)
    assert validate_replan(problem, result.plan, state, config) == []
    route = _route(result.plan, "V-01")
    assert [s.status for s in route.stops] == ["delivered"]
    stranded = set(vs.on_board)
    v2 = _route(result.plan, "V-02")
    served = {s.order_id: s for s in v2.stops} if v2 else {}
    unassigned = {u.order_id: u for u in result.plan.unassigned}
    assert stranded <= set(served) | set(unassigned)
    assert all(unassigned[o].reason for o in stranded if o in unassigned)
    if stranded & set(served):
        # The trip with the parcels leaves the depot only once they are back there.
        assert v2.start_s >= t + 2 * HOUR


def test_broken_down_parcels_unassigned_with_a_reason_when_nobody_can_take_them(two_sides_day):
    """With V-01 broken down and V-02's shift over before the parcels are back, they are unassigned with reasons."""
    problem, plan = two_sides_day
    problem = replace(problem, vehicles=(problem.vehicles[0], replace(problem.vehicles[1], shift_end_s=11 * HOUR)))
    state = _state_at(problem, plan, AS_OF)
    state = replace(
        state, vehicles=tuple(replace(v, broken_down_s=AS_OF) if v.vehicle_id == "V-01" else v for v in state.vehicles)
    )
    config = _config(recovery_s=4 * HOUR)
    result = replan(problem, plan, state, config)
    assert validate_replan(problem, result.plan, state, config) == []
    stranded = set(next(v for v in state.vehicles if v.vehicle_id == "V-01").on_board)
    unassigned = {u.order_id: u for u in result.plan.unassigned}
    assert stranded <= set(unassigned)
    assert all(unassigned[o].reason_code and unassigned[o].reason for o in stranded)


@pytest.fixture
def lopsided_day() -> tuple[Problem, object]:
    """Orders 1 and 2 km north and 3 and 4 km south (5 kg each), two 15 kg vans at 08:00. The current plan (made
    with skills that tied N1, N2, S3 to V-01 and S4 to V-02) sends V-01 north and then to S3, V-02 to S4: moving
    S3 to V-02 saves 7.8 km and 780 s (11.70 EUR)."""
    orders = tuple(order_north(o, km, weight_g=5000) for o, km in (("N1", 1), ("N2", 2), ("S3", -3), ("S4", -4)))
    vans = (van("V-01", capacity_weight_g=15_000), van("V-02", capacity_weight_g=15_000))
    problem = Problem(depot=depot(), orders=orders, vehicles=vans)
    tie = {"N1": "a", "N2": "a", "S3": "a", "S4": "b"}
    tied = replace(
        problem,
        orders=tuple(replace(o, required_skills=frozenset({tie[o.order_id]})) for o in orders),
        vehicles=(replace(vans[0], skills=frozenset({"a"})), replace(vans[1], skills=frozenset({"b"}))),
    )
    current = solve(tied, SEARCH)
    assert {s.order_id for s in _route(current, "V-01").stops} == {"N1", "N2", "S3"}
    return problem, current


def test_large_move_penalty_keeps_stops_on_their_vehicles(lopsided_day):
    """At 100 EUR per move, saving 11.70 EUR moves nothing."""
    problem, current = lopsided_day
    state = LiveState("2026-03-02", 7 * HOUR, vehicles=())
    result = replan(problem, current, state, _config(move_penalty_eur=100.0))
    assert result.moved == ()
    was = {s.order_id: r.vehicle_id for r in current.routes for s in r.stops}
    now = {s.order_id: r.vehicle_id for r in result.plan.routes for s in r.stops}
    assert now == was
    assert validate_replan(problem, result.plan, state, _config(move_penalty_eur=100.0)) == []


def test_zero_move_penalty_takes_the_cheaper_move(lopsided_day):
    """Without a move penalty S3 moves to V-02, and Replan.moved says so."""
    problem, current = lopsided_day
    state = LiveState("2026-03-02", 7 * HOUR, vehicles=())
    result = replan(problem, current, state, _config(move_penalty_eur=0.0))
    assert "S3" in result.moved
    assert "S3" in {s.order_id for s in _route(result.plan, "V-02").stops}
    assert sum(r.cost_eur for r in result.plan.routes) < sum(r.cost_eur for r in current.routes)


def _failed_state(problem, plan, reason):
    """V-01's first stop failed (``reason``); the state is taken shortly after."""
    v1 = _route(plan, "V-01")
    first = v1.stops[0]
    t = first.departure_s + 30
    state = _state_at(problem, plan, t)
    vehicles = []
    for v in state.vehicles:
        if v.vehicle_id == "V-01":
            v = replace(
                v, done=tuple(replace(s, status="failed") if s.order_id == first.order_id else s for s in v.done)
            )
        vehicles.append(v)
    state = replace(
        state,
        vehicles=tuple(vehicles),
        delivered=state.delivered - {first.order_id},
        failed={first.order_id: reason},
    )
    return state, first


def _retried_day(problem, plan):
    """The first stop failed not home, its customer likely home 14:00-18:00 (learned rate), and the re-plan."""
    state, first = _failed_state(problem, plan, "not_home")
    likely = {h: (0.9 if 14 <= h < 18 else 0.2) for h in range(24)}
    state = replace(state, success_by_hour={first.order_id: likely})
    config = _config(retry_after_s=HOUR)
    return state, first, config, replan(problem, plan, state, config)


def test_not_home_is_retried_after_the_retry_delay_when_likely_home(two_sides_day):
    """A not-home stop whose customer is likely home from 14:00 (learned rate) comes back on a route, no earlier
    than retry_after_s after the failed attempt and in the likely hours."""
    problem, plan = two_sides_day
    state, first, config, result = _retried_day(problem, plan)
    assert validate_replan(problem, result.plan, state, config) == []
    retries = [s for r in result.plan.routes for s in r.stops if s.order_id == first.order_id and s.status == "planned"]
    assert len(retries) == 1
    assert retries[0].service_start_s >= max(first.departure_s + HOUR, 14 * HOUR)


def test_the_next_replan_starts_a_retried_order_at_its_retry_not_at_its_failed_stop(two_sides_day):
    """After a re-plan that retries a not-home order, the next re-plan's warm start lists that order once, where the
    retry is: the failed stop is history."""
    from solver.replan import _initial_routes

    problem, plan = two_sides_day
    state, first, config, result = _retried_day(problem, plan)
    statuses = [s.status for r in result.plan.routes for s in r.stops if s.order_id == first.order_id]
    assert sorted(statuses) == ["failed", "planned"]
    sequences = _initial_routes(result.plan, remaining_problem(problem, state, config, current=result.plan))
    listed = [x for seq in sequences.values() for x in seq if x == first.order_id]
    assert listed == [first.order_id]
    (retry_vehicle,) = [
        r.vehicle_id
        for r in result.plan.routes
        for s in r.stops
        if s.order_id == first.order_id and s.status == "planned"
    ]
    open_ids = {o.order_id for o in remaining_problem(problem, state, config).problem.orders}
    planned = [s.order_id for s in _route(result.plan, retry_vehicle).stops if s.status == "planned"]
    assert [x for x in sequences[retry_vehicle] if x is not None] == [x for x in planned if x in open_ids]
    assert replan(problem, result.plan, state, config).plan.unassigned == result.plan.unassigned


def test_the_warm_start_of_a_van_on_the_road_keeps_a_failed_parcel_on_board_for_its_retry(two_sides_day):
    """V-01's first stop failed and is retried from 14:00; the parcel is still on V-01, with the others it carries.
    The warm start keeps the retry on the trip under way (no reload to fetch a parcel the van carries) and the start
    plan keeps the retry on V-01. (Counted as waiting at the depot, it sent late-shift vans of a default-scale day
    home in the evening to fetch the parcels they carried: 3-4 trips each, 67% more km than the morning plan.)"""
    from solver.replan import _initial_routes
    from solver.solve import solve_with_start

    problem, plan = two_sides_day
    state, first = _failed_state(problem, plan, "not_home")
    likely = {h: (0.9 if 14 <= h < 18 else 0.2) for h in range(24)}
    state = replace(state, success_by_hour={first.order_id: likely})
    config = _config(retry_after_s=HOUR)
    remaining = remaining_problem(problem, state, config, current=plan)
    board = remaining.starts["V-01"].on_board
    assert first.order_id in board and len(board) > 1
    sequence = _initial_routes(plan, remaining)["V-01"]
    assert None not in sequence and first.order_id in sequence
    _, start = solve_with_start(remaining.problem, config.search_config(), None, {"V-01": sequence})
    assert [s.order_id for r in start.routes if r.vehicle_id == "V-01" for s in r.stops if s.trip == 1].count(
        first.order_id
    ) == 1


def test_the_warm_start_keeps_a_cargo_bikes_later_trips_and_moves_waiting_orders_to_the_next_one():
    """A bike on the road with B1 on board; the current plan: trip 1 = W (now waiting at the depot), B1; trip 2 =
    X; trip 3 = Y. The start: B1, reload, W and X, reload, Y."""
    from types import SimpleNamespace as NS

    from solver.replan import _initial_routes

    stops = [NS(order_id=o, sequence=k, status="planned") for k, o in enumerate(["W", "B1", "X", "Y"], start=1)]
    current = NS(routes=[NS(vehicle_id="BIKE", stops=stops, reloads=[NS(after_sequence=2), NS(after_sequence=3)])])
    remaining = NS(
        problem=NS(orders=[NS(order_id=o) for o in ("W", "B1", "X", "Y")]),
        starts={"BIKE": NS(mode="road", on_board=frozenset({"B1"}))},
    )
    assert _initial_routes(current, remaining) == {"BIKE": ["B1", None, "W", "X", None, "Y"]}


def test_not_home_is_not_retried_in_the_window_it_failed_in(two_sides_day):
    """Without an availability model, a not-home stop of an all-day order is not tried again the same day (the
    customer is likely still out): DELIVERY_FAILED, saying why."""
    problem, plan = two_sides_day
    state, first = _failed_state(problem, plan, "not_home")
    result = replan(problem, plan, state, _config(retry_after_s=HOUR))
    assert validate_replan(problem, result.plan, state, _config(retry_after_s=HOUR)) == []
    assert [s.status for r in result.plan.routes for s in r.stops if s.order_id == first.order_id] == ["failed"]
    (u,) = [u for u in result.plan.unassigned if u.order_id == first.order_id]
    assert u.reason_code == "DELIVERY_FAILED" and "opens after the attempt" in u.reason


def test_not_home_is_retried_in_a_later_window(two_sides_day):
    """Without an availability model, a not-home stop whose order has an evening window too is tried again in
    that window."""
    problem, plan = two_sides_day
    state, first = _failed_state(problem, plan, "not_home")
    evening = (16 * HOUR, 17 * HOUR)
    orders = tuple(
        replace(o, tw_end_s=12 * HOUR, extra_windows=(evening,)) if o.order_id == first.order_id else o
        for o in problem.orders
    )
    problem = replace(problem, orders=orders)
    config = _config(retry_after_s=HOUR)
    result = replan(problem, plan, state, config)
    assert validate_replan(problem, result.plan, state, config) == []
    (retry,) = [
        s for r in result.plan.routes for s in r.stops if s.order_id == first.order_id and s.status == "planned"
    ]
    assert evening[0] <= retry.service_start_s <= evening[1]


def test_a_retried_order_whose_preferred_window_lies_before_the_retry_is_retried_without_it(two_sides_day):
    """A not-home order with a learned preferred window (10:00-11:00) that failed at about 08:02 may be retried from
    09:02 in the hours its customer is likely home, 12:00-16:00: the retry window no longer holds the preferred
    one, which is dropped (the re-plan raised "preferred window ... is not inside its window" before)."""
    problem, plan = two_sides_day
    state, first = _failed_state(problem, plan, "not_home")
    orders = tuple(
        replace(o, preferred_tw_start_s=10 * HOUR, preferred_tw_end_s=11 * HOUR, preferred_bonus_eur=5.0)
        if o.order_id == first.order_id
        else o
        for o in problem.orders
    )
    problem = replace(problem, orders=orders)
    likely = {h: (0.9 if 12 <= h < 16 else 0.2) for h in range(24)}
    state = replace(state, success_by_hour={first.order_id: likely})
    config = _config(retry_after_s=HOUR)
    rest = {o.order_id: o for o in remaining_problem(problem, state, config).problem.orders}
    assert rest[first.order_id].windows == ((12 * HOUR, 16 * HOUR - 1),)
    assert not rest[first.order_id].has_preferred_window
    result = replan(problem, plan, state, config)
    assert validate_replan(problem, result.plan, state, config) == []
    (retry,) = [
        s for r in result.plan.routes for s in r.stops if s.order_id == first.order_id and s.status == "planned"
    ]
    assert 12 * HOUR <= retry.service_start_s < 16 * HOUR


def test_refused_is_not_retried(two_sides_day):
    """A refused delivery is not tried again: it is unassigned as DELIVERY_FAILED."""
    problem, plan = two_sides_day
    state, first = _failed_state(problem, plan, "refused")
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    planned = [s for r in result.plan.routes for s in r.stops if s.order_id == first.order_id]
    assert [s.status for s in planned] == ["failed"]
    (u,) = [u for u in result.plan.unassigned if u.order_id == first.order_id]
    assert u.reason_code == "DELIVERY_FAILED"
    assert "refused" in u.reason


def _without_runtime(plan):
    return dataclasses.replace(plan, stats=dataclasses.replace(plan.stats, runtime_s=0.0, search_s=0.0, build_s=0.0))


def test_same_inputs_and_seed_give_the_same_plan(two_sides_day):
    """Re-planning twice from the same state with the same seed gives the same plan."""
    problem, plan = two_sides_day
    state = _state_at(problem, plan, AS_OF, new_orders=(order_north("NEW", 2.5),), cancelled=frozenset({"S1"}))
    first, second = replan(problem, plan, state, _config()), replan(problem, plan, state, _config())
    assert first.plan.stats.stopped_by != "time_budget"
    assert _without_runtime(first.plan) == _without_runtime(second.plan)
    assert (first.moved, first.cancelled, dict(first.reasons)) == (second.moved, second.cancelled, dict(second.reasons))


@pytest.fixture
def valid_replan(two_sides_day):
    """A valid re-plan: V-01 has delivered one stop and is committed to the next; V-02 has not left and keeps its
    stops (a high move penalty)."""
    problem, plan = two_sides_day
    v1 = _route(plan, "V-01")
    state = _state_at(problem, plan, v1.stops[0].departure_s + 10)
    result = replan(problem, plan, state, _config(move_penalty_eur=500.0))
    assert validate_replan(problem, result.plan, state, _config()) == []
    assert _route(result.plan, "V-02") is not None
    return problem, state, result.plan


def _with_route(plan, route):
    return replace(plan, routes=tuple(route if r.vehicle_id == route.vehicle_id else r for r in plan.routes))


def _errors(problem, state, plan):
    return "\n".join(validate_replan(problem, plan, state, _config()))


def test_validator_catches_a_changed_done_stop(valid_replan):
    """A finished stop with other times is reported."""
    problem, state, plan = valid_replan
    route = _route(plan, "V-01")
    stops = (replace(route.stops[0], departure_s=route.stops[0].departure_s + 60), *route.stops[1:])
    assert "finished stop 1" in _errors(problem, state, _with_route(plan, replace(route, stops=stops)))


def test_validator_catches_a_committed_stop_not_first(valid_replan):
    """Swapping the committed stop with the next new stop is reported."""
    problem, state, plan = valid_replan
    route = _route(plan, "V-01")
    s = list(route.stops)
    s[1], s[2] = replace(s[2], sequence=2), replace(s[1], sequence=3)
    assert "committed stop" in _errors(problem, state, _with_route(plan, replace(route, stops=tuple(s))))


def test_validator_catches_an_on_board_order_on_another_vehicle(valid_replan):
    """Moving one of V-01's parcels onto V-02's route is reported."""
    problem, state, plan = valid_replan
    v1, v2 = _route(plan, "V-01"), _route(plan, "V-02")
    parcel = v1.stops[-1]
    moved_v1 = replace(v1, stops=v1.stops[:-1])
    moved_v2 = replace(v2, stops=(*v2.stops, replace(parcel, sequence=len(v2.stops) + 1)))
    errors = _errors(problem, state, _with_route(_with_route(plan, moved_v1), moved_v2))
    assert f"order {parcel.order_id} is on board of vehicle V-01" in errors


def test_validator_catches_new_stops_on_a_broken_down_vehicle(valid_replan):
    """The same plan is invalid once the state says V-01 broke down: it still has new stops."""
    problem, state, plan = valid_replan
    broken = replace(
        state,
        vehicles=tuple(
            replace(v, broken_down_s=state.as_of_s) if v.vehicle_id == "V-01" else v for v in state.vehicles
        ),
    )
    assert "broke down" in _errors(problem, broken, plan)


def test_validator_catches_a_missing_and_a_doubled_order(valid_replan):
    """Dropping a new stop (order missing) and also listing a planned order as unassigned are both reported."""
    problem, state, plan = valid_replan
    v2 = _route(plan, "V-02")
    dropped = replace(v2, stops=v2.stops[:-1])
    assert f"order {v2.stops[-1].order_id} is 0 times" in _errors(problem, state, _with_route(plan, dropped))
    doubled = replace(plan, unassigned=(*plan.unassigned, Unassigned(v2.stops[0].order_id, "FLEET_TIME", "test")))
    assert f"order {v2.stops[0].order_id} is 2 times" in _errors(problem, state, doubled)


def test_validator_catches_a_timing_error_in_the_new_part(valid_replan):
    """A new stop that arrives before the vehicle could get there from its committed stop is reported."""
    problem, state, plan = valid_replan
    route = _route(plan, "V-01")
    k = next(i for i, s in enumerate(route.stops) if s.status == "planned")
    early = replace(route.stops[k], arrival_s=route.stops[k].arrival_s - 100)
    stops = (*route.stops[:k], early, *route.stops[k + 1 :])
    assert "arrives at" in _errors(problem, state, _with_route(plan, replace(route, stops=stops)))


def test_validator_catches_a_cancelled_order_on_a_route(two_sides_day):
    """A plan made before a cancellation is invalid for the state that has it."""
    problem, plan = two_sides_day
    state = _state_at(problem, plan, AS_OF)
    result = replan(problem, plan, state, _config())
    cancelled = replace(state, cancelled=frozenset({"N2"}))
    assert "order N2 is cancelled" in _errors(problem, cancelled, result.plan)


def test_warm_start_still_plans_orders_the_current_plan_does_not_have():
    """A van breaks down at 11:00 on a 60-order day: the re-plan, warm-started from the current routes, leaves no
    more orders out than a cold solve of the same remaining problem (regression: the warm start without the
    broken van's parcels left 32 of them out, as PyVRP only inserts an unplanned order next to a planned one)."""
    problem = random_problem(60, 4, seed=1, n_bikes=1)
    plan = solve(problem, SEARCH)
    t = 11 * HOUR
    state = _state_at(problem, plan, t)
    departed = next(v for v in state.vehicles if v.departed and v.on_board)
    state = replace(state, vehicles=tuple(replace(v, broken_down_s=t) if v is departed else v for v in state.vehicles))
    result = replan(problem, plan, state, _config())
    assert validate_replan(problem, result.plan, state, _config()) == []
    cold = solve(remaining_problem(problem, state, _config(), current=plan).problem, SEARCH)
    assert len(result.plan.unassigned) <= len(cold.unassigned)


def test_a_retry_is_worth_its_chance_and_a_first_attempt_goes_first():
    """One van, room for one more 5 kg parcel at noon. R (1 km north) failed not home and is likely home (0.9); N
    (3 km north) has not been tried. The retry's unserved penalty is its priority's times 0.9, so the van takes N,
    the first attempt, though R is nearer. (With both at the full penalty, the search took R: 2 km less.)"""
    from solver.costs import unserved_penalty_eur

    orders = (order_north("R", 1, weight_g=5000), order_north("N", 3, weight_g=5000))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01", capacity_weight_g=5000),))
    plan = solve(problem, SEARCH)
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=12 * HOUR,
        vehicles=(),
        failed={"R": "not_home"},
        success_by_hour={"R": dict.fromkeys(range(24), 0.9)},
    )
    config = _config()
    rest = remaining_problem(problem, state, config, current=plan)
    retry = next(o for o in rest.problem.orders if o.order_id == "R")
    assert retry.unserved_penalty_eur == pytest.approx(0.9 * unserved_penalty_eur(orders[0], config.search_config()))
    result = replan(problem, plan, state, config)
    served = [s.order_id for r in result.plan.routes for s in r.stops if s.status == "planned"]
    assert served == ["N"]
