"""Odd and infeasible planning input still gives a valid plan, with a reason code a dispatcher understands.

Tiny named instances on the meridian through the depot at (0, 0) (see tests/solver/conftest.py): an order ``k``
km north is ``k`` km away in a straight line and ``1.3 * k`` km by road; the test van drives 10 m/s.
"""

from __future__ import annotations

import pytest

from solver import REASON_CODES, Problem, SolveConfig, solve, validate
from solver.diagnostics import PRESOLVE_CODES
from tests.solver.factories import HOUR, depot, order_north, random_problem, van


def _plan(problem: Problem, config: SolveConfig):
    plan = solve(problem, config)
    assert validate(problem, plan) == []
    return plan


def _codes(problem: Problem, config: SolveConfig) -> dict[str, str]:
    return {u.order_id: u.reason_code for u in _plan(problem, config).unassigned}


def _routed(problem: Problem, config: SolveConfig) -> list[str]:
    return sorted(s.order_id for r in _plan(problem, config).routes for s in r.stops)


def test_outside_area_is_a_documented_presolve_code():
    """OUTSIDE_AREA has a plain description and is checked before every other pre-solve code."""
    assert "delivery area" in REASON_CODES["OUTSIDE_AREA"]
    assert PRESOLVE_CODES[0] == "OUTSIDE_AREA"


def test_default_area_is_50_km():
    """The default delivery area, 50 km, takes in the demo world (at most 21 km from any depot)."""
    assert SolveConfig().max_depot_distance_m == 50_000


@pytest.fixture
def near_and_far_problem() -> Problem:
    """NEAR is 40 km north of the depot, FAR 60 km north (a wrong geocode), both open all day; one van."""
    return Problem(depot=depot(), orders=(order_north("NEAR", 40), order_north("FAR", 60)), vehicles=(van(),))


def test_order_beyond_the_area_is_outside_area(near_and_far_problem, fast_config):
    """With the default 50 km area the 60 km order is OUTSIDE_AREA, naming both distances; the 40 km one is
    planned (a van could drive 78 km there and back within its shift, so the limit is the only reason)."""
    plan = _plan(near_and_far_problem, fast_config)
    assert [s.order_id for r in plan.routes for s in r.stops] == ["NEAR"]
    [far] = plan.unassigned
    assert (far.order_id, far.reason_code) == ("FAR", "OUTSIDE_AREA")
    assert far.reason == (
        "lies 60 km from depot D-TEST in a straight line, outside its delivery area of 50 km; "
        "check the address and its coordinates"
    )


def test_area_is_configurable_and_can_be_switched_off(near_and_far_problem, fast_config):
    """A 30 km area leaves both orders out; no area (None) plans both."""
    small = SolveConfig(**{**fast_config.__dict__, "max_depot_distance_m": 30_000})
    assert _codes(near_and_far_problem, small) == {"NEAR": "OUTSIDE_AREA", "FAR": "OUTSIDE_AREA"}
    unlimited = SolveConfig(**{**fast_config.__dict__, "max_depot_distance_m": None})
    assert _routed(near_and_far_problem, unlimited) == ["FAR", "NEAR"]


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan")])
def test_area_must_be_a_non_negative_integer(bad):
    """A negative or fractional area is refused at the boundary."""
    with pytest.raises(ValueError, match="max_depot_distance_m"):
        SolveConfig(max_depot_distance_m=bad)


def test_outside_area_comes_before_no_vehicle_and_size(fast_config):
    """A far order is OUTSIDE_AREA even at a depot without vehicles, and even when it is also too heavy."""
    far_heavy = order_north("FAR", 500, weight_g=5_000_000)
    no_fleet = Problem(depot=depot(), orders=(far_heavy, order_north("NEAR", 1)), vehicles=())
    assert _codes(no_fleet, fast_config) == {"FAR": "OUTSIDE_AREA", "NEAR": "NO_VEHICLE"}
    with_fleet = Problem(depot=depot(), orders=(far_heavy,), vehicles=(van(),))
    assert _codes(with_fleet, fast_config) == {"FAR": "OUTSIDE_AREA"}


def test_orders_at_the_same_spot_are_all_planned(fast_config):
    """Four orders at one address (and one at the depot itself) are all served by the one van."""
    orders = tuple(order_north(f"SAME-{k}", 2) for k in range(4)) + (order_north("DEPOT", 0),)
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    assert _routed(problem, fast_config) == sorted(o.order_id for o in orders)


def test_zero_length_windows(fast_config):
    """A zero-length window at noon is served exactly then; at 05:00 or 22:00 (outside the van's 08:00-18:00
    shift) it is WINDOW_UNREACHABLE."""
    noon = order_north("NOON", 1, tw_start_s=12 * HOUR, tw_end_s=12 * HOUR)
    dawn = order_north("DAWN", 1, tw_start_s=5 * HOUR, tw_end_s=5 * HOUR)
    night = order_north("NIGHT", 1, tw_start_s=22 * HOUR, tw_end_s=22 * HOUR)
    problem = Problem(depot=depot(), orders=(noon, dawn, night), vehicles=(van(),))
    plan = _plan(problem, fast_config)
    assert [(s.order_id, s.service_start_s) for r in plan.routes for s in r.stops] == [("NOON", 12 * HOUR)]
    assert {u.order_id: u.reason_code for u in plan.unassigned} == {
        "DAWN": "WINDOW_UNREACHABLE",
        "NIGHT": "WINDOW_UNREACHABLE",
    }


@pytest.mark.parametrize(
    ("tw_start_s", "tw_end_s"),
    [
        pytest.param(-3 * HOUR, -HOUR, id="the-day-before"),
        pytest.param(2 * HOUR, 4 * HOUR, id="at-night"),
        pytest.param(21 * HOUR, 23 * HOUR, id="after-every-shift"),
        pytest.param(26 * HOUR, 28 * HOUR, id="the-day-after"),
    ],
)
def test_windows_outside_every_shift_are_unreachable(tw_start_s, tw_end_s, fast_config):
    """Windows no shift of the two vans (08:00-18:00 and 10:00-20:00) reaches are WINDOW_UNREACHABLE."""
    order = order_north("A", 1, tw_start_s=tw_start_s, tw_end_s=tw_end_s)
    vans = (van("V-01"), van("V-02", shift_start_s=10 * HOUR, shift_end_s=20 * HOUR))
    problem = Problem(depot=depot(closes_s=22 * HOUR), orders=(order,), vehicles=vans)
    assert _codes(problem, fast_config) == {"A": "WINDOW_UNREACHABLE"}


def test_a_window_after_every_shift_says_so(fast_config):
    """An evening window after the van's 18:00 shift end names the time the van must be back, not a drive."""
    order = order_north("A", 1, tw_start_s=22 * HOUR, tw_end_s=23 * HOUR)
    plan = _plan(Problem(depot=depot(closes_s=23 * HOUR), orders=(order,), vehicles=(van(),)), fast_config)
    assert [(u.reason_code, u.reason) for u in plan.unassigned] == [
        (
            "WINDOW_UNREACHABLE",
            "window 22:00-23:00 starts after every suitable vehicle's day ends: the last must be back at the depot "
            "by 18:00 (end of shift or depot closing)",
        )
    ]


def test_zero_capacity_vehicle(fast_config):
    """A vehicle carrying nothing: an order with weight is TOO_HEAVY; a weightless, sizeless one is planned."""
    empty_van = van(capacity_weight_g=0, capacity_volume_cm3=0)
    orders = (order_north("PARCEL", 1), order_north("NOTHING", 1, weight_g=0, volume_cm3=0))
    problem = Problem(depot=depot(), orders=orders, vehicles=(empty_van,))
    plan = _plan(problem, fast_config)
    assert [s.order_id for r in plan.routes for s in r.stops] == ["NOTHING"]
    assert [(u.order_id, u.reason_code, u.reason) for u in plan.unassigned] == [
        ("PARCEL", "TOO_HEAVY", "weighs 1 kg; the largest vehicle carries 0 kg")
    ]


def test_zero_length_shift_is_window_unreachable(fast_config):
    """A van on a 09:00-09:00 shift cannot drive anywhere: its orders are WINDOW_UNREACHABLE."""
    problem = Problem(
        depot=depot(), orders=(order_north("A", 1),), vehicles=(van(shift_start_s=9 * HOUR, shift_end_s=9 * HOUR),)
    )
    assert _codes(problem, fast_config) == {"A": "WINDOW_UNREACHABLE"}


def test_more_demand_than_the_fleet_carries(fast_config):
    """Five 300 kg orders, two 700 kg vans: four are planned (two per van), the fifth is FLEET_CAPACITY."""
    orders = tuple(order_north(f"H{k}", 1 + k / 10, weight_g=300_000) for k in range(5))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01"), van("V-02")))
    plan = _plan(problem, fast_config)
    assert sum(len(r.stops) for r in plan.routes) == 4
    assert [u.reason_code for u in plan.unassigned] == ["FLEET_CAPACITY"]


@pytest.mark.parametrize(
    "idle",
    [
        pytest.param(van("V-02", shift_start_s=21 * HOUR, shift_end_s=23 * HOUR), id="shift-after-depot-closes"),
        pytest.param(van("V-02", shift_start_s=8 * HOUR, shift_end_s=8 * HOUR + 180), id="shift-too-short-to-drive"),
    ],
)
def test_room_on_a_vehicle_that_cannot_drive_there_is_still_fleet_capacity(idle, fast_config):
    """Three 6 kg orders, a 10 kg van, and a second van with room but a shift that cannot reach any of them:
    the two orders left out are FLEET_CAPACITY (the vans that can get there are full), not FLEET_TIME."""
    orders = tuple(order_north(f"O{k}", k, weight_g=6000) for k in (1, 2, 3))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van("V-01", capacity_weight_g=10_000), idle))
    codes = _codes(problem, fast_config)
    assert len(codes) == 2
    assert set(codes.values()) == {"FLEET_CAPACITY"}


def test_an_overloaded_depot_gets_a_feasible_plan_that_fills_its_van():
    """80 orders for one van, far more than it carries: the search ends on a feasible plan that fills the van
    (58 orders; with PyVRP's default penalty cap it ended infeasible and the repair left 43), and every order
    left out is explained by the fleet, not by the search."""
    problem = random_problem(80, 1, seed=3)
    plan = solve(problem, SolveConfig(seed=0, no_improvement_iters=200, max_iters=500))
    assert validate(problem, plan) == []
    assert plan.stats.feasible
    assert sum(len(r.stops) for r in plan.routes) >= 55
    assert {u.reason_code for u in plan.unassigned} <= {"FLEET_CAPACITY", "FLEET_TIME", "NO_SKILLED_VEHICLE"}
