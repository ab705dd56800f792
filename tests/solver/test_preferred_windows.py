"""Tests of soft preferred windows: the search serves an order in its preferred window when the bonus pays for it.

The line world of :mod:`tests.solver.factories`: orders ``k`` km north of the depot are ``1,300 * k`` m away by
road, the van drives 10 m/s and costs 0.5 EUR/km, 36 EUR/h and 100 EUR/day.
"""

from __future__ import annotations

import dataclasses

import pytest

from solver import (
    Order,
    Problem,
    SolveConfig,
    TimeDependentTravelModel,
    retime_route,
    solve,
    validate,
)
from tests.solver.factories import HOUR, depot, order_north, random_problem, van

MINUTE = 60


def _served(plan, order_id: str):
    """The stop of ``order_id`` in ``plan`` (exactly one)."""
    (stop,) = [s for r in plan.routes for s in r.stops if s.order_id == order_id]
    return stop


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"preferred_tw_start_s": 9 * HOUR}, "both"),
        ({"preferred_tw_end_s": 9 * HOUR}, "both"),
        ({"preferred_tw_start_s": 10 * HOUR, "preferred_tw_end_s": 9 * HOUR}, "ends"),
        ({"preferred_tw_start_s": 9 * HOUR, "preferred_tw_end_s": 9 * HOUR}, "ends"),
        ({"preferred_tw_start_s": 7 * HOUR, "preferred_tw_end_s": 9 * HOUR}, "not inside"),
        ({"preferred_tw_start_s": 11 * HOUR, "preferred_tw_end_s": 13 * HOUR}, "not inside"),
        ({"preferred_tw_start_s": 9 * HOUR, "preferred_tw_end_s": 10 * HOUR, "preferred_bonus_eur": -1.0}, "bonus"),
        ({"preferred_bonus_eur": float("nan")}, "bonus"),
        ({"preferred_tw_start_s": 9.5 * HOUR, "preferred_tw_end_s": 10 * HOUR}, "integer"),
    ],
)
def test_bad_preferred_windows_are_refused(changes, message):
    """Half a window, an empty or reversed one, one outside the 08:00-12:00 window, a negative or NaN bonus raise."""
    with pytest.raises(ValueError, match=message):
        order_north("A", 1, tw_start_s=8 * HOUR, tw_end_s=12 * HOUR, **changes)


def test_in_preferred_window_includes_both_ends():
    """09:00 and 10:00 are in the preferred window 09:00-10:00, 10:00:01 is not; without one the answer is None."""
    order = order_north("A", 1, preferred_tw_start_s=9 * HOUR, preferred_tw_end_s=10 * HOUR)
    assert [order.in_preferred_window(t) for t in (9 * HOUR, 10 * HOUR, 10 * HOUR + 1)] == [True, True, False]
    assert order_north("B", 1).in_preferred_window(9 * HOUR) is None


@pytest.fixture
def free_preference_problem() -> Problem:
    """A 1 km north prefers 10:00-10:30 (bonus 5 EUR), B 2 km north any time: starting later costs nothing."""
    orders = (
        order_north(
            "A", 1, preferred_tw_start_s=10 * HOUR, preferred_tw_end_s=10 * HOUR + 30 * MINUTE, preferred_bonus_eur=5.0
        ),
        order_north("B", 2),
    )
    return Problem(depot=depot(), orders=orders, vehicles=(van(),))


def test_a_free_preferred_window_is_used(free_preference_problem, fast_config):
    """The route moves to A's preferred window at no cost (5.2 km, 640 s, 109 EUR); the objective has no bonus."""
    plan = solve(free_preference_problem, fast_config)
    assert validate(free_preference_problem, plan) == []
    a, b = _served(plan, "A"), _served(plan, "B")
    assert 10 * HOUR <= a.service_start_s <= 10 * HOUR + 30 * MINUTE
    assert (a.in_preferred_window, b.in_preferred_window) == (True, None)
    (route,) = plan.routes
    assert (route.distance_m, route.duration_s) == (5200, 640)
    assert plan.stats.objective == pytest.approx(route.cost_eur) == pytest.approx(109.0)


def test_without_a_bonus_the_preference_is_only_reported(free_preference_problem, fast_config):
    """With bonus 0 the search ignores the preference and leaves at 08:00; the stop says it missed the window."""
    orders = (dataclasses.replace(free_preference_problem.orders[0], preferred_bonus_eur=0.0),) + tuple(
        free_preference_problem.orders[1:]
    )
    problem = dataclasses.replace(free_preference_problem, orders=orders)
    plan = solve(problem, fast_config)
    assert validate(problem, plan) == []
    assert plan.routes[0].start_s == 8 * HOUR
    assert _served(plan, "A").in_preferred_window is False


@pytest.mark.parametrize(("bonus_eur", "in_preferred"), [(1.0, False), (500.0, True)])
def test_an_expensive_preferred_window_needs_a_bonus_that_pays_for_it(fast_config, bonus_eur, in_preferred):
    """B is due 08:00-08:10, A prefers 16:00-16:30 and the one van is on duty from 08:00: serving A at 16:00 keeps
    the van out almost 8 h longer (about 280 EUR). A bonus of 1 EUR does not pay for that, 500 EUR does."""
    orders = (
        order_north(
            "A",
            1,
            preferred_tw_start_s=16 * HOUR,
            preferred_tw_end_s=16 * HOUR + 30 * MINUTE,
            preferred_bonus_eur=bonus_eur,
        ),
        order_north("B", 2, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 10 * MINUTE),
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    plan = solve(problem, fast_config)
    assert validate(problem, plan) == []
    assert plan.unassigned == ()
    assert _served(plan, "A").in_preferred_window is in_preferred
    (route,) = plan.routes
    assert (route.duration_s > 7 * HOUR) is in_preferred
    assert plan.stats.objective == pytest.approx(route.cost_eur)


def test_orders_with_preferred_windows_are_served_or_unassigned_once(fast_config):
    """Three 6 kg orders with preferred windows and one 10 kg van: one is served once, two are unassigned once
    each as FLEET_CAPACITY (the two alternatives of an order never both appear)."""
    orders = tuple(
        order_north(
            f"O{k}",
            k,
            weight_g=6000,
            preferred_tw_start_s=9 * HOUR,
            preferred_tw_end_s=10 * HOUR,
            preferred_bonus_eur=3.0,
        )
        for k in (1, 2, 3)
    )
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(capacity_weight_g=10_000),))
    plan = solve(problem, fast_config)
    assert validate(problem, plan) == []
    served = [s.order_id for r in plan.routes for s in r.stops]
    assert len(served) == 1
    assert _served(plan, served[0]).in_preferred_window is True
    assert sorted(u.order_id for u in plan.unassigned) == sorted({"O1", "O2", "O3"} - set(served))
    assert {u.reason_code for u in plan.unassigned} == {"FLEET_CAPACITY"}


def test_a_required_skilled_order_keeps_its_preference(fast_config):
    """An order needing the one tail lift is required in the search (as a group of its two windows); it rides on
    V-02 in its preferred window."""
    orders = (
        order_north(
            "LIFT",
            1,
            required_skills=frozenset({"tail_lift"}),
            preferred_tw_start_s=11 * HOUR,
            preferred_tw_end_s=11 * HOUR + 15 * MINUTE,
            preferred_bonus_eur=10.0,
        ),
        order_north("PLAIN", -1),
    )
    vehicles = (van("V-01", cost_per_day_eur=10.0), van("V-02", skills=frozenset({"tail_lift"})))
    problem = Problem(depot=depot(), orders=orders, vehicles=vehicles)
    plan = solve(problem, fast_config)
    assert validate(problem, plan) == []
    assert plan.unassigned == ()
    (lift_route,) = [r for r in plan.routes if "LIFT" in {s.order_id for s in r.stops}]
    assert lift_route.vehicle_id == "V-02"
    assert _served(plan, "LIFT").in_preferred_window is True


def test_retiming_decides_whether_the_preferred_window_is_kept(fast_config):
    """A prefers 08:00-08:03: at full speed the van is there 08:02:10; at half speed all day, 08:04:20, too late."""
    order = order_north("A", 1, preferred_tw_start_s=8 * HOUR, preferred_tw_end_s=8 * HOUR + 3 * MINUTE)
    problem = Problem(depot=depot(), orders=(order,), vehicles=(van(),))
    plan = solve(problem, fast_config)
    assert _served(plan, "A").in_preferred_window is True
    slow = TimeDependentTravelModel(hour_factor=(0.5,) * 24)
    stop = retime_route(plan.routes[0], problem, slow).stops[0]
    assert (stop.arrival_s, stop.in_preferred_window) == (8 * HOUR + 260, False)


def test_validate_catches_a_wrong_preferred_window_flag(free_preference_problem, fast_config):
    """Claiming A missed its preferred window, or that B (without one) kept it, is caught; None is accepted."""
    plan = solve(free_preference_problem, fast_config)
    route = plan.routes[0]

    def flagged(order_id: str, flag: bool | None):
        stops = tuple(
            dataclasses.replace(s, in_preferred_window=flag) if s.order_id == order_id else s for s in route.stops
        )
        return dataclasses.replace(plan, routes=(dataclasses.replace(route, stops=stops),))

    assert any("in_preferred_window=False" in e for e in validate(free_preference_problem, flagged("A", False)))
    assert any("in_preferred_window=True" in e for e in validate(free_preference_problem, flagged("B", True)))
    assert validate(free_preference_problem, flagged("A", None)) == []


def _with_preferences(problem: Problem, bonus_eur: float) -> Problem:
    """Every third order prefers the first hour of its window (or 10:00-11:00 when it has none)."""
    orders: list[Order] = []
    for k, o in enumerate(problem.orders):
        if k % 3 == 0:
            start = o.tw_start_s if o.tw_start_s else 10 * HOUR
            o = dataclasses.replace(
                o, preferred_tw_start_s=start, preferred_tw_end_s=start + HOUR, preferred_bonus_eur=bonus_eur
            )
        orders.append(o)
    return dataclasses.replace(problem, orders=tuple(orders))


@pytest.mark.parametrize("timed", [False, True], ids=["great-circle", "time-dependent"])
def test_a_bonus_moves_a_depot_into_preferred_windows(timed):
    """On a 60-order depot, a 30 EUR bonus serves more orders in their preferred window than none does; both plans
    are valid and list each order once."""
    base = random_problem(60, 3, seed=11)
    model = TimeDependentTravelModel(hour_factor=(1.1,) * 7 + (0.7, 0.8) + (1.0,) * 15) if timed else None
    config = SolveConfig(seed=2, no_improvement_iters=200, max_iters=400)
    kept = {}
    for bonus in (0.0, 30.0):
        problem = _with_preferences(base, bonus)
        plan = solve(problem, config, model)
        assert validate(problem, plan, model) == []
        listed = [s.order_id for r in plan.routes for s in r.stops] + [u.order_id for u in plan.unassigned]
        assert sorted(listed) == sorted(o.order_id for o in problem.orders)
        kept[bonus] = sum(s.in_preferred_window is True for r in plan.routes for s in r.stops)
    assert kept[30.0] > kept[0.0]
