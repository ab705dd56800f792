"""Property test: whatever small problem comes in, the plan is valid and accounts for every order."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import REASON_CODES, Depot, Order, Problem, SolveConfig, Vehicle, solve, validate

HOUR = 3600
SKILLS = ("tail_lift", "refrigerated")


@st.composite
def orders(draw, order_id: str) -> Order:
    """An order within ~10 km of (47.1, 9.5); mostly ordinary, sometimes huge or with an impossible window."""
    tw_start = draw(st.one_of(st.just(0), st.integers(-HOUR, 20 * HOUR)))
    return Order(
        order_id=order_id,
        lat=47.1 + draw(st.floats(-0.08, 0.08)),
        lon=9.5 + draw(st.floats(-0.1, 0.1)),
        weight_g=draw(st.one_of(st.integers(0, 50_000), st.integers(0, 50_000), st.integers(0, 10**9))),
        volume_cm3=draw(st.integers(0, 2_000_000)),
        service_s=draw(st.integers(0, 900)),
        tw_start_s=tw_start,
        tw_end_s=tw_start + draw(st.one_of(st.just(24 * HOUR), st.integers(-HOUR, 12 * HOUR))),
        required_skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=1)))
        if draw(st.booleans())
        else frozenset(),
        priority=draw(st.sampled_from(("normal", "high"))),
        order_type=draw(st.sampled_from(("delivery", "pickup"))),
    )


@st.composite
def vehicles(draw, vehicle_id: str) -> Vehicle:
    """A vehicle with a random shift, size, speed and skills."""
    start = draw(st.integers(5 * HOUR, 12 * HOUR))
    return Vehicle(
        vehicle_id=vehicle_id,
        vehicle_type=draw(st.sampled_from(("van", "cargo_bike"))),
        capacity_weight_g=draw(st.integers(0, 120_000)),
        capacity_volume_cm3=draw(st.integers(0, 3_000_000)),
        shift_start_s=start,
        shift_end_s=start + draw(st.integers(0, 10 * HOUR)),
        speed_kmh=draw(st.sampled_from((15.0, 30.0, 45.0))),
        cost_per_km_eur=draw(st.floats(0.0, 1.0)),
        cost_per_hour_eur=draw(st.floats(0.0, 50.0)),
        cost_per_day_eur=draw(st.floats(0.0, 200.0)),
        skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=2))),
    )


@st.composite
def problems(draw) -> Problem:
    """Zero to twelve orders and zero to three vehicles around one depot."""
    opens = draw(st.integers(0, 8 * HOUR))
    depot = Depot(depot_id="D-H", lat=47.1, lon=9.5, opens_s=opens, closes_s=opens + draw(st.integers(0, 16 * HOUR)))
    n_orders = draw(st.integers(0, 12))
    n_vehicles = draw(st.integers(0, 3))
    return Problem(
        depot=depot,
        orders=tuple(draw(orders(f"O{i}")) for i in range(n_orders)),
        vehicles=tuple(draw(vehicles(f"V{k}")) for k in range(n_vehicles)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), seed=st.integers(0, 3), iters=st.sampled_from((1, 60)))
def test_plan_is_always_valid_and_complete(problem, seed, iters):
    """Every random problem gives a plan that passes the validator, each order routed or unassigned.

    One iteration often leaves PyVRP's best solution infeasible, which exercises the repair.
    """
    plan = solve(problem, SolveConfig(seed=seed, no_improvement_iters=iters, max_iters=iters))
    assert validate(problem, plan) == []
    routed = [s.order_id for r in plan.routes for s in r.stops]
    unassigned = [u.order_id for u in plan.unassigned]
    assert sorted(routed + unassigned) == sorted(o.order_id for o in problem.orders)
    assert all(u.reason_code in REASON_CODES and u.reason for u in plan.unassigned)
    assert all(r.stops for r in plan.routes)
