"""Tests of solver.validate: a valid plan passes and each kind of hand-made break is caught."""

from __future__ import annotations

import dataclasses

import pytest

from solver import Plan, Problem, Unassigned, solve, validate
from tests.solver.factories import HOUR


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
