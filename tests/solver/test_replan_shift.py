"""A re-plan times the rest of a van's day from now, within what is left of its shift and paid overtime.

A shift start left in the past planned stops before the re-plan's time: a van back at its depot at 18:00 after a
shift ending at 16:00 was given trips timed 16:00-17:00 and drove them from 18:00 on. The instances sit on the
meridian through the depot (see conftest.py): order ``N<k>`` is ``k`` km north, 1.3 km by road a km, 130 s at
10 m/s.
"""

from __future__ import annotations

import pytest

from solver import LiveState, PlannedStop, Problem, ReplanConfig, VehicleState, replan, solve, validate_replan
from solver.travel import GreatCircleTravelModel
from tests.solver.factories import HOUR, SEARCH, depot, order_north, van

TRAVEL = GreatCircleTravelModel(circuity=1.3)
SHIFT_END = 12 * HOUR
OVERTIME = HOUR


def _config() -> ReplanConfig:
    return ReplanConfig(time_budget_s=5.0, seed=1, solve_config=SEARCH)


@pytest.fixture
def short_shift() -> Problem:
    """Orders N1..N10 one km apart due north, 60 s each, open all day; one van 08:00-12:00 with 1 h overtime."""
    orders = tuple(order_north(f"N{k}", k) for k in range(1, 11))
    vehicle = van("V-01", shift_end_s=SHIFT_END, max_overtime_s=OVERTIME, overtime_cost_per_hour_eur=10.0)
    return Problem(depot=depot(), orders=orders, vehicles=(vehicle,))


def _open_stops(result):
    return [s for r in result.plan.routes for s in r.stops if s.status == "planned"]


def _at_depot(problem: Problem, as_of_s: int):
    """The re-plan at ``as_of_s`` of a van still at its depot with every order open."""
    plan = solve(problem, SEARCH, TRAVEL)
    state = LiveState(service_date="2026-03-03", as_of_s=as_of_s, vehicles=())
    result = replan(problem, plan, state, _config(), TRAVEL)
    assert validate_replan(problem, result.plan, state, _config(), TRAVEL) == []
    return result


def test_a_van_at_its_depot_after_its_overtime_takes_no_more_stops(short_shift):
    """At 14:00 the van's overtime ended at 13:00: nothing is planned on it (it was given stops timed from 12:00),
    and every order is left out with a reason."""
    result = _at_depot(short_shift, 14 * HOUR)
    assert _open_stops(result) == []
    assert {u.order_id for u in result.plan.unassigned} == {o.order_id for o in short_shift.orders}


def test_a_van_at_its_depot_in_its_overtime_plans_only_the_overtime_left(short_shift):
    """At 12:30 half an hour of overtime is left: the stops it gets start after 12:30 and the van is back by 13:00,
    and the half hour is used."""
    as_of = 12 * HOUR + 1800
    result = _at_depot(short_shift, as_of)
    stops = _open_stops(result)
    assert stops, "the overtime left was not used"
    assert min(s.arrival_s for s in stops) >= as_of
    (route,) = [r for r in result.plan.routes if r.stops]
    assert route.end_s <= SHIFT_END + OVERTIME
    assert len(stops) < len(short_shift.orders)


def test_a_van_on_the_road_after_its_overtime_drives_home(short_shift):
    """At 14:00 the van stands at N5 with N6..N10 on board and no overtime left: it drives straight home (about
    650 s) and delivers nothing more."""
    plan = solve(short_shift, SEARCH, TRAVEL)
    as_of = 14 * HOUR
    done = tuple(
        PlannedStop(
            order_id=f"N{k}", sequence=k, arrival_s=as_of - 340 + 60 * k, service_start_s=as_of - 340 + 60 * k,
            departure_s=as_of - 300 + 60 * k, wait_s=0, leg_distance_m=1300, leg_duration_s=20, status="delivered",
        )  # fmt: skip
        for k in range(1, 6)
    )
    n5 = short_shift.orders[4]
    vs = VehicleState(
        vehicle_id="V-01", departed=True, lat=n5.lat, lon=n5.lon, at_s=as_of, committed_order_id=None,
        committed_done_s=None, on_board=tuple(f"N{k}" for k in range(6, 11)), done=done,
    )  # fmt: skip
    state = LiveState(
        service_date="2026-03-03",
        as_of_s=as_of,
        vehicles=(vs,),
        delivered=frozenset(s.order_id for s in done),
    )
    result = replan(short_shift, plan, state, _config(), TRAVEL)
    assert validate_replan(short_shift, result.plan, state, _config(), TRAVEL) == []
    assert _open_stops(result) == []
    assert {u.order_id for u in result.plan.unassigned} == {f"N{k}" for k in range(6, 11)}
    (route,) = result.plan.routes
    assert as_of + 600 <= route.end_s <= as_of + 700
