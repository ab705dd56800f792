"""Tests of solver.validate: a valid plan passes and each kind of hand-made break is caught."""

from __future__ import annotations

import dataclasses

import pytest

from solver import (
    Depot,
    Plan,
    PlannedReload,
    PlannedRoute,
    PlannedStop,
    Problem,
    SolveStats,
    TimeDependentTravelModel,
    Unassigned,
    retime_route,
    solve,
    validate,
)
from tests.solver.factories import HOUR, depot, order_north, van


@pytest.fixture
def line_plan(line_problem, fast_config) -> Plan:
    """The solved line problem: one route A/B/C on V-01, nothing unassigned."""
    return solve(line_problem, fast_config)


def _with_route(plan: Plan, **changes) -> Plan:
    return dataclasses.replace(plan, routes=(dataclasses.replace(plan.routes[0], **changes),))


def _with_stop(plan: Plan, index: int, **changes) -> Plan:
    stops = list(plan.routes[0].stops)
    stops[index] = dataclasses.replace(stops[index], **changes)
    return _with_route(plan, stops=tuple(stops))


def _problem_with(problem: Problem, order_changes: dict | None = None, vehicle_changes: dict | None = None):
    orders = tuple(dataclasses.replace(o, **(order_changes or {})) for o in problem.orders)
    vehicles = tuple(dataclasses.replace(v, **(vehicle_changes or {})) for v in problem.vehicles)
    return dataclasses.replace(problem, orders=orders, vehicles=vehicles)


def test_solved_plan_is_valid(line_problem, line_plan):
    """The solver's own plan passes."""
    assert validate(line_problem, line_plan) == []


def test_missing_order(line_problem, line_plan):
    """Dropping a stop without listing the order as unassigned is caught."""
    route = line_plan.routes[0]
    broken = _with_route(line_plan, stops=route.stops[:-1])
    assert any("neither on a route nor unassigned" in e for e in validate(line_problem, broken))


def test_order_twice(line_problem, line_plan):
    """An order both on a route and unassigned is caught."""
    order_id = line_plan.routes[0].stops[0].order_id
    broken = dataclasses.replace(line_plan, unassigned=(Unassigned(order_id, "FLEET_TIME", "x"),))
    assert any("appears 2 times" in e for e in validate(line_problem, broken))


def test_unknown_order_and_reason_code(line_problem, line_plan):
    """An unassigned order the problem does not have, with a made-up reason code, is caught twice."""
    broken = dataclasses.replace(line_plan, unassigned=(Unassigned("GHOST", "BAD_LUCK", "x"),))
    errors = validate(line_problem, broken)
    assert any("GHOST is in the plan but not in the problem" in e for e in errors)
    assert any("unknown reason code" in e for e in errors)


def test_vehicle_used_twice(line_problem, line_plan):
    """Splitting the route into two routes on the same vehicle is caught."""
    route = line_plan.routes[0]
    first = dataclasses.replace(route, stops=route.stops[:1])
    second = dataclasses.replace(route, stops=route.stops[1:])
    broken = dataclasses.replace(line_plan, routes=(first, second))
    assert any("drives 2 routes" in e for e in validate(line_problem, broken))


def test_unknown_vehicle(line_problem, line_plan):
    """A route on a vehicle the depot does not have is caught."""
    broken = _with_route(line_plan, vehicle_id="V-99")
    assert any("not at the depot" in e for e in validate(line_problem, broken))


@pytest.mark.parametrize(("field", "size"), [("capacity_weight_g", "weight_g"), ("capacity_volume_cm3", "volume_cm3")])
def test_over_capacity(line_problem, line_plan, field, size):
    """The same route checked against a vehicle that holds only 2 kg / 2 L is over capacity."""
    smaller = _problem_with(line_problem, vehicle_changes={field: 2000})
    assert any(f"({size}) but vehicle V-01 takes 2000" in e for e in validate(smaller, line_plan))


def test_service_outside_window(line_problem, line_plan):
    """Checked against windows that open at 12:00, the morning route starts service too early."""
    late = _problem_with(line_problem, order_changes={"tw_start_s": 12 * HOUR})
    assert any("outside its window" in e for e in validate(late, line_plan))


def test_arrival_before_the_drive_is_done(line_problem, line_plan):
    """Arriving at the second stop 10 minutes early (with times kept consistent at the stop) is caught."""
    stop = line_plan.routes[0].stops[1]
    broken = _with_stop(line_plan, 1, arrival_s=stop.arrival_s - 600, wait_s=stop.wait_s + 600)
    assert any("before leaving the previous stop" in e for e in validate(line_problem, broken))


def test_departure_not_after_service(line_problem, line_plan):
    """Leaving before the service time is over is caught."""
    stop = line_plan.routes[0].stops[0]
    broken = _with_stop(line_plan, 0, departure_s=stop.service_start_s + 10)
    assert any("departs at" in e for e in validate(line_problem, broken))


def test_wait_inconsistent(line_problem, line_plan):
    """A wait that is not service start minus arrival is caught."""
    broken = _with_stop(line_plan, 0, wait_s=99)
    assert any("waits 99 s" in e for e in validate(line_problem, broken))


def test_leg_mismatch(line_problem, line_plan):
    """A leg distance that disagrees with the travel model is caught."""
    broken = _with_stop(line_plan, 0, leg_distance_m=1)
    assert any("the travel model says" in e for e in validate(line_problem, broken))


def test_route_outside_shift(line_problem, line_plan):
    """Against a shift ending 08:05 the route returns too late; against one from 09:00 it leaves too early."""
    short = _problem_with(line_problem, vehicle_changes={"shift_end_s": 8 * HOUR + 300})
    assert any("returns to the depot" in e for e in validate(short, line_plan))
    late = _problem_with(line_problem, vehicle_changes={"shift_start_s": 9 * HOUR})
    assert any("leaves the depot" in e for e in validate(late, line_plan))


def test_return_before_the_drive_back(line_problem, line_plan):
    """Being back at the depot right after the last service is caught (with duration kept consistent)."""
    route = line_plan.routes[0]
    end = route.stops[-1].departure_s
    broken = _with_route(line_plan, end_s=end, duration_s=end - route.start_s)
    assert any("drive back" in e for e in validate(line_problem, broken))


def test_missing_skill(line_problem, line_plan):
    """The same route checked against orders needing a tail lift the van lacks is caught."""
    needy = _problem_with(line_problem, order_changes={"required_skills": frozenset({"tail_lift"})})
    assert any("needs tail_lift" in e for e in validate(needy, line_plan))


def test_cost_not_from_the_cost_model(line_problem, line_plan):
    """A route cost that is not the cost model's is caught."""
    broken = _with_route(line_plan, cost_eur=1.0)
    assert any("the cost model says" in e for e in validate(line_problem, broken))


def test_distance_not_the_sum_of_legs(line_problem, line_plan):
    """A route distance that is not the sum of its legs and the way back is caught."""
    broken = _with_route(line_plan, distance_m=line_plan.routes[0].distance_m + 500)
    assert any("legs add up to" in e for e in validate(line_problem, broken))


# --- the route constraints of issue 6: depots, trips, breaks, loads, shipments, overtime, limits, windows -------
#
# Hand-made plans on the line world (an order k km north is 1,300 * k m by road, 130 * k s at the van's 10 m/s),
# timed by retime_route with a neutral learned model, whose legs equal the great-circle model's: each test checks
# that its plan is valid first, then breaks one rule.

NEUTRAL = TimeDependentTravelModel(hour_factor=(1.0,) * 24)
MINUTE = 60


def depot_north(depot_id: str, km: float, **kwargs) -> Depot:
    """A depot ``km`` km north of the test depot (open 06:00-20:00 unless told)."""
    fields = dict(opens_s=6 * HOUR, closes_s=20 * HOUR) | kwargs
    return Depot(depot_id=depot_id, lat=order_north("x", km).lat, lon=0.0, **fields)


def planned(
    problem: Problem,
    order_ids: list[str],
    start_s: int,
    vehicle_id: str = "V-01",
    reload_after: tuple[int, ...] = (),
    break_after: int | None = None,
) -> PlannedRoute:
    """A route of ``vehicle_id`` through ``order_ids`` from ``start_s``, between the vehicle's own depots, with
    reloads after the given stops and a break after the given stop, all times from retime_route."""
    vehicle = next(v for v in problem.vehicles if v.vehicle_id == vehicle_id)
    by_id = {o.order_id: o for o in problem.orders}
    stops = tuple(PlannedStop(oid, k + 1, 0, 0, 0, 0, 0, 0) for k, oid in enumerate(order_ids))
    deliveries = [by_id[oid] for oid in order_ids if by_id[oid].order_type == "delivery" and not by_id[oid].shipment_id]
    route = PlannedRoute(
        route_id=f"{problem.depot.depot_id}-{vehicle_id}",
        vehicle_id=vehicle_id,
        vehicle_type=vehicle.vehicle_type,
        stops=stops,
        start_s=start_s,
        end_s=0,
        distance_m=0,
        duration_s=0,
        weight_g=sum(o.weight_g for o in deliveries),
        volume_cm3=sum(o.volume_cm3 for o in deliveries),
        cost_eur=0.0,
        start_depot_id=vehicle.start_depot_id or "",
        end_depot_id=vehicle.end_depot_id or "",
        reloads=tuple(PlannedReload(a, 0, 0, 0, 0) for a in reload_after),
        break_after_sequence=break_after,
        break_start_s=None if break_after is None else 0,
    )
    return retime_route(route, problem, NEUTRAL)


def plan_of(problem: Problem, *routes: PlannedRoute, unassigned: tuple[Unassigned, ...] = ()) -> Plan:
    """A plan of the given routes and unassigned orders."""
    cost = sum(r.cost_eur for r in routes)
    stats = SolveStats(0.0, 0, cost, True, len(problem.orders), len(problem.vehicles), "max_iters")
    return Plan(problem.depot.depot_id, tuple(routes), unassigned, stats)


def with_vehicle(problem: Problem, **changes) -> Problem:
    return _problem_with(problem, vehicle_changes=changes)


@pytest.fixture
def two_depot_problem() -> Problem:
    """The van starts at the test depot and ends at D-NORTH 10 km north; orders 3 and 6 km north on its way."""
    vehicle = van(end_depot_id="D-NORTH")
    orders = (order_north("A", 3), order_north("B", 6))
    return Problem(depot=depot(), orders=orders, vehicles=(vehicle,), depots=(depot_north("D-NORTH", 10),))


def test_route_between_two_depots(two_depot_problem):
    """08:00 out, A at 08:06:30, B at 08:13:00, 5.2 km on to D-NORTH by 08:23:40: 13 km in all, valid."""
    route = planned(two_depot_problem, ["A", "B"], 8 * HOUR)
    assert (route.end_s, route.distance_m, route.end_depot_id) == (8 * HOUR + 23 * MINUTE + 40, 13_000, "D-NORTH")
    assert validate(two_depot_problem, plan_of(two_depot_problem, route)) == []


def test_route_at_the_wrong_depot(two_depot_problem):
    """A route that says it ends at the problem's depot, or starts at D-NORTH, is not the vehicle's route."""
    plan = plan_of(two_depot_problem, planned(two_depot_problem, ["A", "B"], 8 * HOUR))
    errors = validate(two_depot_problem, _with_route(plan, end_depot_id=""))
    assert any("ends at depot D-TEST, but vehicle V-01 ends at depot D-NORTH" in e for e in errors)
    errors = validate(two_depot_problem, _with_route(plan, start_depot_id="D-NORTH"))
    assert any("starts at depot D-NORTH, but vehicle V-01 starts at depot D-TEST" in e for e in errors)
    errors = validate(two_depot_problem, _with_route(plan, end_depot_id="D-NOWHERE"))
    assert any("D-NOWHERE, which is not in the problem" in e for e in errors)


def test_route_leaves_before_its_start_depot_opens(two_depot_problem):
    """A van starting at D-NORTH, which opens at 09:00, cannot leave at 08:00 even though its shift has begun."""
    problem = dataclasses.replace(
        with_vehicle(two_depot_problem, start_depot_id="D-NORTH", end_depot_id=None),
        depots=(depot_north("D-NORTH", 10, opens_s=9 * HOUR),),
    )
    errors = validate(problem, plan_of(problem, planned(problem, ["B", "A"], 8 * HOUR)))
    assert any("leaves the depot at 08:00, before 09:00" in e and "D-NORTH opens 09:00" in e for e in errors)
    assert validate(problem, plan_of(problem, planned(problem, ["B", "A"], 9 * HOUR))) == []


@pytest.fixture
def break_problem() -> Problem:
    """A 1 km and B 2 km north; the van takes a 30 min break starting 12:00-13:00."""
    vehicle = van(break_s=30 * MINUTE, break_earliest_s=12 * HOUR, break_latest_s=13 * HOUR)
    return Problem(depot=depot(), orders=(order_north("A", 1), order_north("B", 2)), vehicles=(vehicle,))


@pytest.fixture
def break_plan(break_problem) -> Plan:
    """Leaving 11:55: A served 11:57:10-11:58:10, break 12:00-12:30, B at 12:32:10, back 12:37:30."""
    return plan_of(break_problem, planned(break_problem, ["A", "B"], 11 * HOUR + 55 * MINUTE, break_after=1))


def test_break_within_its_window_is_valid(break_problem, break_plan):
    """The break starts when its window opens, after A; B's leg leaves when the break ends."""
    route = break_plan.routes[0]
    assert (route.break_after_sequence, route.break_start_s) == (1, 12 * HOUR)
    assert route.stops[1].arrival_s == 12 * HOUR + 30 * MINUTE + 130
    assert route.end_s == 12 * HOUR + 37 * MINUTE + 30
    assert validate(break_problem, break_plan) == []


@pytest.mark.parametrize(
    ("earliest", "latest"), [(12 * HOUR + 10 * MINUTE, 13 * HOUR), (11 * HOUR, 11 * HOUR + 30 * MINUTE)]
)
def test_break_outside_its_window(break_problem, break_plan, earliest, latest):
    """The same break at 12:00 checked against a window from 12:10, or one ending 11:30, is outside it."""
    problem = with_vehicle(break_problem, break_earliest_s=earliest, break_latest_s=latest)
    assert any("starts its break at 12:00, outside the break window" in e for e in validate(problem, break_plan))


def test_missing_break(break_problem):
    """A route running past 12:00 without a break (planned for a van without one) is caught; one back by 12:00
    needs none."""
    no_break = with_vehicle(break_problem, break_s=0)
    plan = plan_of(break_problem, planned(no_break, ["A", "B"], 11 * HOUR + 55 * MINUTE))
    assert plan.routes[0].end_s == 12 * HOUR + 5 * MINUTE + 40
    assert any("takes no break (1800 s)" in e for e in validate(break_problem, plan))
    early = plan_of(break_problem, planned(no_break, ["A", "B"], 11 * HOUR + 40 * MINUTE))
    assert early.routes[0].end_s < 12 * HOUR
    assert validate(break_problem, early) == []


def test_break_on_a_vehicle_without_one(break_problem, break_plan):
    """A break on a van whose break_s is 0 is an error, and so is a break with only one of its two fields."""
    assert any("has none (break_s 0)" in e for e in validate(with_vehicle(break_problem, break_s=0), break_plan))
    half = _with_route(break_plan, break_start_s=None)
    assert any("a break needs both" in e for e in validate(break_problem, half))


def test_break_before_its_stop_is_left_or_ending_after_the_next_leg_left(break_problem, break_plan):
    """A break starting before A's service is over, or one starting a minute later than B's arrival allows, is
    caught; so is a break after a stop the route does not have."""
    route = break_plan.routes[0]
    problem = with_vehicle(break_problem, break_earliest_s=11 * HOUR)
    early = _with_route(break_plan, break_start_s=route.stops[0].departure_s - 10)
    assert any("before it leaves stop 1" in e for e in validate(problem, early))
    late = _with_route(break_plan, break_start_s=12 * HOUR + MINUTE)
    assert any("before leaving the previous stop" in e for e in validate(break_problem, late))
    nowhere = _with_route(break_plan, break_after_sequence=5)
    assert any("takes its break after stop 5" in e for e in validate(break_problem, nowhere))


def test_idle_time_after_a_break_is_caught(break_problem, break_plan):
    """The leg after a break leaves when it ends: arriving at B a minute later than that is an error."""
    stop = break_plan.routes[0].stops[1]
    later = _with_stop(
        break_plan,
        1,
        arrival_s=stop.arrival_s + MINUTE,
        service_start_s=stop.service_start_s + MINUTE,
        departure_s=stop.departure_s + MINUTE,
    )
    assert any("the 130 s drive arrives at" in e for e in validate(break_problem, later))


@pytest.fixture
def reload_problem() -> Problem:
    """Six 1 kg orders 1-3.5 km north; the van carries 3 kg and may reload once; a reload takes 10 min."""
    orders = tuple(order_north(f"O{k}", km) for k, km in enumerate((1, 2, 3, 1.5, 2.5, 3.5), start=1))
    vehicle = van(capacity_weight_g=3000, max_reloads=1)
    return Problem(depot=dataclasses.replace(depot(), reload_s=10 * MINUTE), orders=orders, vehicles=(vehicle,))


@pytest.fixture
def reload_plan(reload_problem) -> Plan:
    """O1-O3 on trip 1, a reload after stop 3, O4-O6 on trip 2."""
    return plan_of(
        reload_problem, planned(reload_problem, ["O1", "O2", "O3", "O4", "O5", "O6"], 8 * HOUR, reload_after=(3,))
    )


def test_two_trips_with_a_reload_are_valid(reload_problem, reload_plan):
    """Trip 1 reaches O3 after 3.9 km (390 s) and 180 s of service and is back at 08:16:00; the reload ends
    08:26:00; trip 2 drives 1.95 + 1.3 + 1.3 + 4.55 km (910 s) with 180 s of service: back 08:44:10, 16.9 km."""
    route = reload_plan.routes[0]
    assert [s.trip for s in route.stops] == [1, 1, 1, 2, 2, 2]
    (reload,) = route.reloads
    assert (reload.after_sequence, reload.arrival_s, reload.departure_s) == (
        3,
        8 * HOUR + 16 * MINUTE,
        8 * HOUR + 26 * MINUTE,
    )
    assert (route.distance_m, route.end_s) == (16_900, 8 * HOUR + 44 * MINUTE + 10)
    assert route.stops[3].leg_distance_m == 1950
    assert validate(reload_problem, reload_plan) == []


def test_reloads_too_many_or_missing(reload_problem, reload_plan):
    """Without a reload the van carries 6 kg; a van that may not reload cannot take the plan; two reloads are
    one too many."""
    route = planned(reload_problem, ["O1", "O2", "O3", "O4", "O5", "O6"], 8 * HOUR)
    errors = validate(reload_problem, plan_of(reload_problem, route))
    assert any("carries up to 6000 (weight_g) but vehicle V-01 takes 3000" in e for e in errors)
    errors = validate(with_vehicle(reload_problem, max_reloads=0), reload_plan)
    assert any("reloads 1 times, but vehicle V-01 may reload at most 0 times" in e for e in errors)
    twice = planned(reload_problem, ["O1", "O2", "O3", "O4", "O5", "O6"], 8 * HOUR, reload_after=(2, 4))
    assert any("may reload at most 1 times" in e for e in validate(reload_problem, plan_of(reload_problem, twice)))


def test_reload_misplaced_or_too_short(reload_problem, reload_plan):
    """A stop numbered on the wrong trip, a reload after the last stop, a reload shorter than reload_s and a
    reload leg that is not the travel model's are caught."""
    errors = validate(reload_problem, _with_stop(reload_plan, 3, trip=1))
    assert any("is on trip 1, but it follows 1 reload(s)" in e for e in errors)
    (reload,) = reload_plan.routes[0].reloads
    after_last = _with_route(reload_plan, reloads=(dataclasses.replace(reload, after_sequence=6),))
    assert any("a reload comes between two stops" in e for e in validate(reload_problem, after_last))
    short = _with_route(reload_plan, reloads=(dataclasses.replace(reload, departure_s=reload.arrival_s + 100),))
    assert any("before the 600 s reload" in e for e in validate(reload_problem, short))
    bent = _with_route(reload_plan, reloads=(dataclasses.replace(reload, leg_distance_m=100),))
    assert any(
        "the reload after stop 3" in e and "the travel model says 3900 m" in e for e in validate(reload_problem, bent)
    )
    # Before the first stop: no reload for a vehicle that starts at its depot; one that may head home first
    # (Vehicle.reload_first, a vehicle on the road) is checked like any other, from where it starts.
    first = _with_route(reload_plan, reloads=(dataclasses.replace(reload, after_sequence=0),))
    assert any("after stop 1..5" in e for e in validate(reload_problem, first))
    errors = validate(with_vehicle(reload_problem, reload_first=True), first)
    assert not any("a reload comes between two stops" in e for e in errors)
    assert any("the reload before route" in e and "the travel model says 0 m" in e for e in errors)


def test_capacity_is_per_trip(reload_problem, reload_plan):
    """Each trip carries 3 kg: fine at 3 kg, over capacity at 2 kg (on trip 1, where the peak is first)."""
    errors = validate(with_vehicle(reload_problem, capacity_weight_g=2000), reload_plan)
    assert any("carries up to 3000 (weight_g) on trip 1 but vehicle V-01 takes 2000" in e for e in errors)


def test_parcels_over_capacity():
    """Two orders of 6 parcels (1 kg each) on a van holding 10 parcels are over capacity; without a parcel limit
    they fit."""
    orders = (order_north("A", 1, parcels=6), order_north("B", 2, parcels=6))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_parcels=10),))
    plan = plan_of(problem, planned(problem, ["A", "B"], 8 * HOUR))
    assert any("carries up to 12 (parcels) but vehicle V-01 takes 10" in e for e in validate(problem, plan))
    assert validate(with_vehicle(problem, capacity_parcels=None), plan) == []
    assert validate(with_vehicle(problem, capacity_parcels=12), plan) == []


@pytest.fixture
def shipment_problem() -> Problem:
    """X, a 2 kg delivery 3 km north; shipment S1 of 1 kg picked up at P (1 km) and delivered at D (2 km); a 2 kg
    van and a second one."""
    orders = (
        order_north("X", 3, weight_g=2000),
        order_north("P", 1, order_type="pickup", shipment_id="S1"),
        order_north("D", 2, shipment_id="S1"),
    )
    return Problem(depot=depot(), orders=orders, vehicles=(van(capacity_weight_g=2000), van("V-02")))


def test_shipment_load_is_on_board_only_between_its_ends(shipment_problem):
    """X first, then P and D: never more than 2 kg on board (the shipment is not loaded at the depot) and the
    route's load at departure is X's 2 kg. P and D first: 3 kg after P."""
    plan = plan_of(shipment_problem, planned(shipment_problem, ["X", "P", "D"], 8 * HOUR))
    assert plan.routes[0].weight_g == 2000
    assert validate(shipment_problem, plan) == []
    first = plan_of(shipment_problem, planned(shipment_problem, ["P", "D", "X"], 8 * HOUR))
    assert any("carries up to 3000 (weight_g)" in e for e in validate(shipment_problem, first))
    counted = _with_route(plan, weight_g=3000)
    assert any("deliveries outside shipments total 2000" in e for e in validate(shipment_problem, counted))


def test_shipment_load_is_what_its_pickup_collects():
    """A 1 kg shipment whose delivery order says 500 g: the delivery hands over the whole 1 kg, so after a reload
    the 2 kg van has room for X's 2 kg (nothing of the shipment is left on board)."""
    orders = (
        order_north("X", 3, weight_g=2000),
        order_north("P", 1, order_type="pickup", shipment_id="S1"),
        order_north("D", 2, weight_g=500, shipment_id="S1"),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_weight_g=2000, max_reloads=1),))
    plan = plan_of(problem, planned(problem, ["P", "D", "X"], 8 * HOUR, reload_after=(2,)))
    assert validate(problem, plan) == []


def test_shipment_delivered_before_pickup_split_or_half_planned(shipment_problem):
    """D before P on one route, P and D on two routes, and P on a route with D unassigned are all caught."""
    backwards = plan_of(shipment_problem, planned(shipment_problem, ["X", "D", "P"], 8 * HOUR))
    assert any(
        "is delivered at stop 2 before it is picked up at stop 3" in e for e in validate(shipment_problem, backwards)
    )
    split = plan_of(
        shipment_problem,
        planned(shipment_problem, ["X", "P"], 8 * HOUR),
        planned(shipment_problem, ["D"], 8 * HOUR, vehicle_id="V-02"),
    )
    assert any("is split over routes D-TEST-V-01 and D-TEST-V-02" in e for e in validate(shipment_problem, split))
    half = plan_of(
        shipment_problem,
        planned(shipment_problem, ["X", "P"], 8 * HOUR),
        unassigned=(Unassigned("D", "FLEET_TIME", "x"),),
    )
    assert any("is half planned: only P is on a route" in e for e in validate(shipment_problem, half))
    neither = plan_of(
        shipment_problem,
        planned(shipment_problem, ["X"], 8 * HOUR),
        unassigned=(Unassigned("P", "FLEET_TIME", "x"), Unassigned("D", "FLEET_TIME", "x")),
    )
    assert validate(shipment_problem, neither) == []


def test_pickup_fits_only_after_the_deliveries():
    """Two 1 kg deliveries, then a 2 kg pickup: at most 2 kg on board in a 3 kg van; the pickup first makes 4 kg."""
    orders = (
        order_north("D1", 1),
        order_north("D2", 2),
        order_north("R", 3, weight_g=2000, order_type="pickup"),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_weight_g=3000),))
    assert validate(problem, plan_of(problem, planned(problem, ["D1", "D2", "R"], 8 * HOUR))) == []
    errors = validate(problem, plan_of(problem, planned(problem, ["R", "D1", "D2"], 8 * HOUR)))
    assert any("carries up to 4000 (weight_g)" in e for e in errors)


@pytest.fixture
def overtime_problem() -> Problem:
    """A 3 km north; the van's shift ends 18:00 with up to an hour of paid overtime at 36 EUR/h on top."""
    vehicle = van(max_overtime_s=HOUR, overtime_cost_per_hour_eur=36.0)
    return Problem(depot=depot(), orders=(order_north("A", 3),), vehicles=(vehicle,))


def test_paid_overtime(overtime_problem):
    """Leaving 17:50, the van is back 18:04 (390 + 60 + 390 s): 240 s of overtime, priced at 36 + 36 EUR/h.
    Without reporting it, without its premium, beyond max_overtime_s or past the depot's closing it is invalid."""
    plan = plan_of(overtime_problem, planned(overtime_problem, ["A"], 17 * HOUR + 50 * MINUTE))
    route = plan.routes[0]
    assert (route.end_s, route.overtime_s) == (18 * HOUR + 4 * MINUTE, 240)
    assert route.cost_eur == pytest.approx(0.5 * 7.8 + 36 * 840 / 3600 + 36 * 240 / 3600 + 100)
    assert validate(overtime_problem, plan) == []
    assert any("reports overtime_s 0 s" in e for e in validate(overtime_problem, _with_route(plan, overtime_s=0)))
    no_premium = _with_route(plan, cost_eur=0.5 * 7.8 + 36 * 840 / 3600 + 100)
    assert any("the cost model says" in e for e in validate(overtime_problem, no_premium))
    errors = validate(with_vehicle(overtime_problem, max_overtime_s=0), plan)
    assert any("returns to the depot at 18:04, after 18:00" in e for e in errors)
    closing = dataclasses.replace(overtime_problem, depot=depot(closes_s=18 * HOUR + 2 * MINUTE))
    errors = validate(closing, plan)
    assert any("returns to the depot at 18:04, after 18:02" in e for e in errors)


def test_max_duration_and_distance(line_problem, line_plan):
    """The 7.8 km, 960 s line route breaks a 7 km or a 900 s limit and keeps 7.8 km and 960 s."""
    assert any(
        "farther than vehicle V-01's maximum of 7000 m" in e
        for e in validate(with_vehicle(line_problem, max_distance_m=7000), line_plan)
    )
    assert any(
        "longer than vehicle V-01's maximum of 900 s" in e
        for e in validate(with_vehicle(line_problem, max_duration_s=900), line_plan)
    )
    assert validate(with_vehicle(line_problem, max_distance_m=7800, max_duration_s=960), line_plan) == []


def test_service_in_the_second_of_two_windows():
    """W (1 km) opens 08:00-08:10 and 12:00-13:00: reached 11:57:10, served from 12:00 in the second window;
    against windows 08:00-08:10 and 13:00-14:00 the same stop is outside both."""
    w = order_north(
        "W", 1, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 10 * MINUTE, extra_windows=((12 * HOUR, 13 * HOUR),)
    )
    problem = Problem(depot=depot(), orders=(w,), vehicles=(van(),))
    plan = plan_of(problem, planned(problem, ["W"], 11 * HOUR + 55 * MINUTE))
    assert plan.routes[0].stops[0].service_start_s == 12 * HOUR
    assert validate(problem, plan) == []
    other = _problem_with(problem, order_changes={"extra_windows": ((13 * HOUR, 14 * HOUR),)})
    assert any("outside its windows 08:00-08:10, 13:00-14:00" in e for e in validate(other, plan))


def test_mandatory_order_is_never_left_out_for_cost(line_problem, line_plan):
    """A mandatory order unassigned as NOT_WORTH_SERVING is an error; as WINDOW_UNREACHABLE (its data) or
    SEARCH_LIMIT (a 5,000-order day's search ran out of time: the plan stands, with the reason) it is not."""
    problem = _problem_with(line_problem, order_changes={"priority": "mandatory"})
    route = line_plan.routes[0]
    last = route.stops[-1].order_id
    shorter = planned(problem, [s.order_id for s in route.stops[:-1]], route.start_s)
    dropped = plan_of(problem, shorter, unassigned=(Unassigned(last, "NOT_WORTH_SERVING", "x"),))
    assert any(f"mandatory order {last} is unassigned as NOT_WORTH_SERVING" in e for e in validate(problem, dropped))
    unreachable = plan_of(problem, shorter, unassigned=(Unassigned(last, "WINDOW_UNREACHABLE", "x"),))
    assert validate(problem, unreachable) == []
    cut_short = plan_of(problem, shorter, unassigned=(Unassigned(last, "SEARCH_LIMIT", "x"),))
    assert validate(problem, cut_short) == []
    assert validate(line_problem, dropped) == []
