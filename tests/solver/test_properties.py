"""Property test: whatever small problem comes in, the plan is valid and accounts for every order.

The strategies mix ordinary orders with the degenerate input a real export brings: addresses far outside the
area (another city, the other side of the globe), several orders at one spot (or at the depot itself),
zero-length windows, windows outside every shift (at night, on the day before or after), zero-capacity vehicles,
zero-length shifts, and more demand than the fleet can carry. A second test adds random learned travel times
and preferred windows. The search is derandomized and writes no example database, so every run checks the same
examples and leaves no files behind.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import (
    REASON_CODES,
    Depot,
    Order,
    Problem,
    SolveConfig,
    TimeDependentTravelModel,
    Vehicle,
    haversine_m,
    solve,
    validate,
    zone_cells,
)

HOUR = 3600
SKILLS = ("tail_lift", "refrigerated")
DEPOT_LAT, DEPOT_LON = 47.1, 9.5
VIENNA = (48.2082, 16.3738)
ANTIPODE = (-DEPOT_LAT, DEPOT_LON - 180.0)

nearby = st.tuples(
    st.floats(DEPOT_LAT - 0.08, DEPOT_LAT + 0.08),
    st.floats(DEPOT_LON - 0.1, DEPOT_LON + 0.1),
)
far_away = st.one_of(
    st.sampled_from((VIENNA, ANTIPODE, (90.0, 180.0), (-90.0, -180.0))),
    st.tuples(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0)),
)
ordinary_windows = st.one_of(
    st.just((0, 24 * HOUR)),  # any time
    st.tuples(st.sampled_from(range(8 * HOUR, 16 * HOUR, HOUR)), st.sampled_from((HOUR, 2 * HOUR, 4 * HOUR))),
)
odd_windows = st.one_of(
    st.tuples(st.integers(-2 * HOUR, 26 * HOUR), st.just(0)),  # zero length, possibly at night
    st.tuples(st.sampled_from((-6 * HOUR, 0, 22 * HOUR, 30 * HOUR)), st.integers(0, 2 * HOUR)),  # outside shifts
    st.tuples(st.integers(-HOUR, 20 * HOUR), st.integers(-HOUR, 12 * HOUR)),  # anything, may end before it starts
)


def mostly(ordinary, *odd):
    """Draw from ``ordinary`` three times as often as from each of the ``odd`` strategies.

    ``st.one_of`` would not do: it weighs its branches unevenly, and listing one branch thrice does not help.
    """
    return st.sampled_from((ordinary, ordinary, ordinary, *odd)).flatmap(lambda strategy: strategy)


@st.composite
def orders(draw, order_id: str, spots: list[tuple[float, float]], heavy: bool) -> Order:
    """An ordinary order near (47.1, 9.5), some at a shared spot; one in four odd in one way.

    Odd: far outside the area, too heavy or weightless and without volume, or a degenerate window. Ordinary
    orders weigh up to 30 kg, or 100-400 kg when ``heavy`` (more than the fleet can carry).
    """
    odd = draw(st.sampled_from((None, None, None, "place", "size", "window")))
    lat, lon = draw(far_away if odd == "place" else mostly(nearby, st.sampled_from(spots)))
    if odd == "size":
        weight = draw(st.one_of(st.just(0), st.integers(50_000, 400_000), st.integers(0, 10**9)))
        volume = draw(st.one_of(st.just(0), st.integers(0, 2_000_000)))
    else:
        weight = draw(st.integers(100_000, 400_000) if heavy else st.integers(100, 30_000))
        volume = draw(st.integers(100, 120_000))
    tw_start, length = draw(odd_windows if odd == "window" else ordinary_windows)
    return Order(
        order_id=order_id,
        lat=lat,
        lon=lon,
        weight_g=weight,
        volume_cm3=volume,
        service_s=draw(st.integers(0, 900)),
        tw_start_s=tw_start,
        tw_end_s=tw_start + length,
        required_skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=1)))
        if draw(st.integers(0, 3)) == 0
        else frozenset(),
        priority=draw(st.sampled_from(("normal", "high"))),
        order_type=draw(st.sampled_from(("delivery", "pickup"))),
    )


@st.composite
def vehicles(draw, vehicle_id: str) -> Vehicle:
    """An ordinary bike, van or truck; one in four odd: zero or random capacity, or a random (even empty) shift."""
    odd = draw(st.sampled_from((None, None, None, "size", "shift")))
    if odd == "size":
        weight = draw(st.one_of(st.just(0), st.integers(0, 10**6)))
        volume = draw(st.one_of(st.just(0), st.integers(0, 10**7)))
    else:
        weight, volume = draw(st.sampled_from(((120_000, 1_000_000), (800_000, 10_000_000), (2_500_000, 30_000_000))))
    if odd == "shift":
        start = draw(st.integers(5 * HOUR, 12 * HOUR))
        end = start + draw(st.one_of(st.just(0), st.integers(0, 10 * HOUR)))
    else:
        start = draw(st.sampled_from((7 * HOUR, 8 * HOUR)))
        end = start + draw(st.sampled_from((8 * HOUR, 9 * HOUR)))
    return Vehicle(
        vehicle_id=vehicle_id,
        vehicle_type=draw(st.sampled_from(("van", "cargo_bike"))),
        capacity_weight_g=weight,
        capacity_volume_cm3=volume,
        shift_start_s=start,
        shift_end_s=end,
        speed_kmh=draw(st.sampled_from((15.0, 30.0, 45.0))),
        cost_per_km_eur=draw(st.floats(0.0, 1.0)),
        cost_per_hour_eur=draw(st.floats(0.0, 50.0)),
        cost_per_day_eur=draw(st.floats(0.0, 200.0)),
        skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=2))),
    )


@st.composite
def problems(draw) -> Problem:
    """Zero to twelve orders and zero to three vehicles around one depot, a few orders sharing spots.

    Mostly a depot open 06:00-20:00, sometimes random (even empty) opening hours; sometimes no vehicle; one
    day in three brings heavy orders, more than the fleet can carry.
    """
    opens, closes = draw(
        mostly(st.just((6 * HOUR, 20 * HOUR)), st.integers(0, 8 * HOUR).map(lambda o: (o, o + 8 * HOUR)))
    )
    closes = draw(mostly(st.just(closes), st.integers(opens, opens + 16 * HOUR)))
    depot = Depot(depot_id="D-H", lat=DEPOT_LAT, lon=DEPOT_LON, opens_s=opens, closes_s=closes)
    spots = [(DEPOT_LAT, DEPOT_LON)] + draw(st.lists(nearby, min_size=1, max_size=2))
    n_orders = draw(st.integers(0, 12))
    n_vehicles = draw(mostly(st.integers(1, 3), st.just(0)))
    heavy = draw(st.sampled_from((False, False, True)))
    return Problem(
        depot=depot,
        orders=tuple(draw(orders(f"O{i}", spots, heavy)) for i in range(n_orders)),
        vehicles=tuple(draw(vehicles(f"V{k}")) for k in range(n_vehicles)),
    )


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    problem=problems(),
    seed=st.integers(0, 3),
    iters=st.sampled_from((1, 60)),
    area_m=st.sampled_from((None, 50_000, 50_000, 5_000)),
)
def test_plan_is_always_valid_and_complete(problem, seed, iters, area_m):
    """Every random problem gives a plan that passes the validator, each order routed or unassigned.

    One iteration often leaves PyVRP's best solution infeasible, which exercises the repair. Orders beyond the
    delivery area are never routed, and are unassigned as OUTSIDE_AREA.
    """
    config = SolveConfig(seed=seed, no_improvement_iters=iters, max_iters=iters, max_depot_distance_m=area_m)
    plan = solve(problem, config)
    assert validate(problem, plan) == []
    routed = [s.order_id for r in plan.routes for s in r.stops]
    unassigned = [u.order_id for u in plan.unassigned]
    assert sorted(routed + unassigned) == sorted(o.order_id for o in problem.orders)
    assert all(u.reason_code in REASON_CODES and u.reason for u in plan.unassigned)
    assert all(r.stops for r in plan.routes)
    if area_m is not None:
        outside = {o.order_id for o in problem.orders if _distance_m(problem.depot, o) > area_m}
        codes = {u.order_id: u.reason_code for u in plan.unassigned}
        assert {order_id: codes.get(order_id) for order_id in outside} == dict.fromkeys(outside, "OUTSIDE_AREA")


def _distance_m(depot: Depot, order: Order) -> float:
    return float(haversine_m(depot.lat, depot.lon, order.lat, order.lon))


@st.composite
def learned_models(draw, problem: Problem) -> TimeDependentTravelModel:
    """Hour factors from 0.3 to 2, slow or fast zones at a few order cells, and a pace for some drivers."""
    cells = sorted({str(c) for c in zone_cells([o.lat for o in problem.orders], [o.lon for o in problem.orders])})
    zones = draw(st.lists(st.sampled_from(cells), unique=True, max_size=3)) if cells else []
    drivers = (
        draw(st.lists(st.sampled_from([v.vehicle_id for v in problem.vehicles]), unique=True, max_size=2))
        if problem.vehicles
        else []
    )
    factor = st.floats(0.3, 2.0)
    return TimeDependentTravelModel(
        hour_factor=tuple(draw(st.lists(factor, min_size=24, max_size=24))),
        zone_factor=tuple((cell, draw(factor)) for cell in zones),
        vehicle_factor=tuple((vehicle_id, draw(st.floats(0.7, 1.5))) for vehicle_id in drivers),
        version="property",
    )


@st.composite
def with_preferred_windows(draw, problem: Problem) -> Problem:
    """Some orders with a valid window get a preferred part of it (possibly at night or before midnight) and a bonus."""
    orders = []
    for o in problem.orders:
        if o.tw_end_s > o.tw_start_s and draw(st.booleans()):
            start = draw(st.integers(o.tw_start_s, o.tw_end_s - 1))
            end = draw(st.integers(start + 1, o.tw_end_s))
            o = replace(
                o, preferred_tw_start_s=start, preferred_tw_end_s=end, preferred_bonus_eur=draw(st.floats(0, 50))
            )
        orders.append(o)
    return replace(problem, orders=tuple(orders))


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data(), seed=st.integers(0, 3), iters=st.sampled_from((1, 60)))
def test_timed_plan_with_preferences_is_always_valid_and_complete(data, seed, iters):
    """With a random learned model and random preferred windows, every plan passes the validator under that model
    and lists each order once; a stop carries late_s exactly when it starts after its window."""
    problem = data.draw(problems().flatmap(with_preferred_windows))
    model = data.draw(learned_models(problem))
    plan = solve(problem, SolveConfig(seed=seed, no_improvement_iters=iters, max_iters=iters), model)
    assert validate(problem, plan, model) == []
    routed = [s.order_id for r in plan.routes for s in r.stops]
    assert sorted(routed + [u.order_id for u in plan.unassigned]) == sorted(o.order_id for o in problem.orders)
    by_id = {o.order_id: o for o in problem.orders}
    for stop in (s for r in plan.routes for s in r.stops):
        order = by_id[stop.order_id]
        assert stop.late_s == max(0, stop.service_start_s - order.tw_end_s)
        assert stop.in_preferred_window == order.in_preferred_window(stop.service_start_s)
