"""Tests of solver.diagnostics: every reason code comes out of solve for the situation it names."""

from __future__ import annotations

import pytest

from solver import REASON_CODES, Problem, SolveConfig, solve, validate
from solver.diagnostics import PRESOLVE_CODES, clock
from tests.solver.factories import HOUR, depot, order_north, van


def _reasons(problem: Problem, config: SolveConfig) -> dict[str, tuple[str, str]]:
    plan = solve(problem, config)
    assert validate(problem, plan) == []
    return {u.order_id: (u.reason_code, u.reason) for u in plan.unassigned}


def test_every_code_has_a_description():
    """The one list of reason codes covers the pre-solve codes and the post-solve ones."""
    assert set(PRESOLVE_CODES) <= set(REASON_CODES)
    assert {"FLEET_CAPACITY", "FLEET_TIME", "NOT_WORTH_SERVING"} <= set(REASON_CODES)
    assert all(text.endswith(".") for text in REASON_CODES.values())


def test_no_vehicle(fast_config):
    """A depot without vehicles leaves every order unassigned as NO_VEHICLE."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1),), vehicles=())
    assert _reasons(problem, fast_config)["A"][0] == "NO_VEHICLE"


def test_invalid_window_does_not_raise(fast_config):
    """A window ending before it starts is accepted by Problem and reported as INVALID_WINDOW."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("A", 1, tw_start_s=10 * HOUR, tw_end_s=9 * HOUR),),
        vehicles=(van(),),
    )
    code, reason = _reasons(problem, fast_config)["A"]
    assert code == "INVALID_WINDOW"
    assert "09:00" in reason and "10:00" in reason


def test_no_skilled_vehicle(fast_config):
    """An order needing refrigeration at a depot without a refrigerated vehicle is NO_SKILLED_VEHICLE."""
    problem = Problem(
        depot=depot(),
        orders=(order_north("A", 1, required_skills=frozenset({"refrigerated"})),),
        vehicles=(van(skills=frozenset({"tail_lift"})),),
    )
    code, reason = _reasons(problem, fast_config)["A"]
    assert code == "NO_SKILLED_VEHICLE"
    assert "refrigerated" in reason


def test_too_heavy_names_both_weights(fast_config):
    """An 850 kg order for a 700 kg van: 'weighs 850 kg; the largest vehicle carries 700 kg'."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1, weight_g=850_000),), vehicles=(van(),))
    assert _reasons(problem, fast_config)["A"] == (
        "TOO_HEAVY",
        "weighs 850 kg; the largest vehicle carries 700 kg",
    )


def test_too_bulky(fast_config):
    """A 12 m3 order for a 10 m3 van is TOO_BULKY, naming both volumes."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1, volume_cm3=12_000_000),), vehicles=(van(),))
    code, reason = _reasons(problem, fast_config)["A"]
    assert code == "TOO_BULKY"
    assert "12000 L" in reason and "10000 L" in reason


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(order_north("A", 40, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 1800), id="too-far-for-window"),
        pytest.param(order_north("A", 1, tw_start_s=17 * HOUR + 3590, tw_end_s=18 * HOUR), id="no-time-to-return"),
        pytest.param(order_north("A", 1, tw_start_s=5 * HOUR, tw_end_s=7 * HOUR), id="window-before-shift"),
    ],
)
def test_window_unreachable(order, fast_config):
    """Windows no vehicle can serve from the depot within its 08:00-18:00 shift are WINDOW_UNREACHABLE."""
    problem = Problem(depot=depot(), orders=(order,), vehicles=(van(),))
    assert _reasons(problem, fast_config)["A"][0] == "WINDOW_UNREACHABLE"


def test_depot_hours_limit_the_shift(fast_config):
    """A van on shift until 18:00 at a depot closing at 12:00 cannot serve an afternoon window."""
    order = order_north("A", 1, tw_start_s=14 * HOUR, tw_end_s=15 * HOUR)
    problem = Problem(depot=depot(closes_s=12 * HOUR), orders=(order,), vehicles=(van(),))
    assert _reasons(problem, fast_config)["A"][0] == "WINDOW_UNREACHABLE"


def test_fleet_capacity(full_van_problem, fast_config):
    """Three 6 kg orders, one 10 kg van: one is served, the other two are FLEET_CAPACITY."""
    reasons = _reasons(full_van_problem, fast_config)
    assert len(reasons) == 2
    assert {code for code, _ in reasons.values()} == {"FLEET_CAPACITY"}


def test_fleet_time(fast_config):
    """Two orders 5 km apart on either side of the depot, both due 08:10-08:15: one van serves only one."""
    window = dict(tw_start_s=8 * HOUR + 600, tw_end_s=8 * HOUR + 900)
    orders = (order_north("N", 5, **window), order_north("S", -5, **window))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    reasons = _reasons(problem, fast_config)
    assert len(reasons) == 1
    assert next(iter(reasons.values()))[0] == "FLEET_TIME"


def test_not_worth_serving():
    """With a 1 EUR unserved penalty a 100 EUR/day van is not worth sending: NOT_WORTH_SERVING."""
    problem = Problem(depot=depot(), orders=(order_north("A", 1),), vehicles=(van(),))
    config = SolveConfig(seed=0, unserved_penalty_eur=1.0, no_improvement_iters=50, max_iters=100)
    plan = solve(problem, config)
    assert validate(problem, plan) == []
    assert [(u.order_id, u.reason_code) for u in plan.unassigned] == [("A", "NOT_WORTH_SERVING")]
    assert plan.stats.objective == pytest.approx(1.0)


def test_high_priority_is_kept_when_normal_is_dropped():
    """Penalties 5 EUR (normal) and 5,000 EUR (high): only the high-priority order justifies the van.

    The normal order 10 km the other way would add 26 km (13 EUR) of driving, more than its penalty.
    """
    orders = (order_north("NORMAL", -10), order_north("HIGH", 1, priority="high"))
    problem = Problem(depot=depot(), orders=orders, vehicles=(van(),))
    config = SolveConfig(
        seed=0,
        unserved_penalty_eur=5.0,
        high_priority_penalty_eur=5000.0,
        no_improvement_iters=100,
        max_iters=200,
    )
    plan = solve(problem, config)
    assert [s.order_id for r in plan.routes for s in r.stops] == ["HIGH"]
    assert [(u.order_id, u.reason_code) for u in plan.unassigned] == [("NORMAL", "NOT_WORTH_SERVING")]


def test_clock_formats_seconds_since_midnight():
    """clock() shows HH:MM and marks times past midnight."""
    assert clock(8 * HOUR + 5 * 60) == "08:05"
    assert clock(25 * HOUR) == "01:00 (+1d)"


def test_window_unreachable_says_why(fast_config):
    """The reason names the earliest possible arrival, or the missing time to return, or the shift gap."""
    far = order_north("FAR", 40, tw_start_s=8 * HOUR, tw_end_s=8 * HOUR + 1800)
    late = order_north("LATE", 1, tw_start_s=17 * HOUR + 3590, tw_end_s=18 * HOUR)
    problem = Problem(depot=depot(), orders=(far, late), vehicles=(van(),))
    reasons = _reasons(problem, fast_config)
    assert "earliest a suitable vehicle can be there is 09:26" in reasons["FAR"][1]
    assert "by 18:00" in reasons["LATE"][1]
    night_van = van(shift_start_s=21 * HOUR, shift_end_s=23 * HOUR)
    closed = Problem(depot=depot(), orders=(order_north("A", 1),), vehicles=(night_van,))
    assert "overlaps the depot's opening hours" in _reasons(closed, fast_config)["A"][1]
