"""Tests of solver.recombine: set partitioning over the routes the searches met, on tiny instances."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyvrp
import pyvrp.stop

from solver import SolveConfig, solve, validate
from solver.recombine import RoutePool, objective, recombine, route_cost, route_key, route_of, solution_of
from solver.vrplib import read_vrptw

SOLOMON = Path(__file__).resolve().parents[3] / "shared" / "data" / "benchmarks" / "solomon" / "vrplib"
CLIENT = int(pyvrp.ActivityType.CLIENT.value)


def _model(distance: np.ndarray, vehicles: int, clients: list[dict] | None = None, groups: int = 0):
    """A depot (location 0) and one client per further row of ``distance``; ``clients`` gives their options."""
    m = pyvrp.Model()
    locations = [m.add_location(x=float(i), y=0.0) for i in range(len(distance))]
    m.add_depot(locations[0])
    made = [m.add_client_group() for _ in range(groups)]
    for i, loc in enumerate(locations[1:]):
        options = dict((clients or [{}] * len(locations))[i])
        if "group" in options:
            options["group"] = made[options["group"]]
        m.add_client(loc, **options)
    m.add_vehicle_type(num_available=vehicles)
    for i, frm in enumerate(locations):
        for j, to in enumerate(locations):
            m.add_edge(frm, to, int(distance[i, j]), int(distance[i, j]))
    return m.data()


def _route(*clients: int) -> tuple:
    """A route key of vehicle type 0 visiting the given client indices (0-based) in order."""
    return 0, tuple((CLIENT, c) for c in clients)


def _pool(data, *keys) -> dict:
    """Routes as a search's pool holds them: route -> its cost."""
    return {k: route_cost(route_of(data, k)) for k in keys}



def _line(*xs: float) -> np.ndarray:
    pts = np.array([0.0, *xs])
    return np.abs(pts[:, None] - pts[None, :]) * 10


def test_crossed_routes_are_recombined_into_the_cheaper_pair():
    """Clients at 1, 2, 10 and 11 km: the best found pairs near with far (420); the pool's routes pair 1-2 and
    10-11 (260); the recombined plan is those two routes, and its cost is PyVRP's objective of them."""
    data = _model(_line(1, 2, 10, 11), vehicles=2)
    best = [_route(0, 2), _route(1, 3)]
    pool = _pool(data, _route(0, 1), _route(2, 3), _route(3, 2))
    assert objective(data, solution_of(data, best)) == 420
    result = recombine(data, best, [pool], time_limit_s=5.0)
    assert result is not None
    routes, cost = result
    assert sorted(routes) == sorted([_route(0, 1), _route(2, 3)])
    assert cost == 220 + 40 == objective(data, solution_of(data, routes))


def test_nothing_cheaper_in_the_pool_gives_none():
    data = _model(_line(1, 2, 10, 11), vehicles=2)
    best = [_route(0, 1), _route(2, 3)]
    assert recombine(data, best, [_pool(data, _route(0, 2), _route(1, 3), *best)], time_limit_s=5.0) is None


def test_the_fleet_size_bounds_the_number_of_routes():
    """Clients 1 and 2 are close to the depot but 100 apart: alone they cost 20 + 20, together 110. With two
    vehicles the 3-route plan is out of reach; with three it is chosen."""
    distance = np.array([[0, 10, 10, 50], [10, 0, 100, 50], [10, 100, 0, 50], [50, 50, 50, 0]])
    best = [_route(0, 1), _route(2)]
    two, three = _model(distance, vehicles=2), _model(distance, vehicles=3)
    assert recombine(two, best, [_pool(two, _route(0), _route(1))], time_limit_s=5.0) is None
    result = recombine(three, best, [_pool(three, _route(0), _route(1))], time_limit_s=5.0)
    assert result is not None
    assert sorted(result[0]) == sorted([_route(0), _route(1), _route(2)])
    assert result[1] == 20 + 20 + 100


def test_an_optional_client_is_left_out_when_its_prize_is_less_than_its_detour():
    """Client 2 (optional, prize 30) costs a 100 detour: the plan without it is cheaper by 70."""
    distance = _line(1, 2, 7)
    clients = [{}, {}, {"required": False, "prize": 30}]
    data = _model(distance, vehicles=1, clients=clients)
    best = [_route(0, 1, 2)]
    result = recombine(data, best, [_pool(data, _route(0, 1))], time_limit_s=5.0)
    assert result is not None
    assert result[0] == (_route(0, 1),)
    assert result[1] == objective(data, solution_of(data, best)) - 100 + 30


def test_alternative_clients_of_one_order_are_served_once():
    """An order with two windows enters as two clients of one group; the cheaper plan serves the other one."""
    distance = _line(1, 5, 1.5)
    clients = [{}, {"group": 0, "required": False}, {"group": 0, "required": False}]
    data = _model(distance, vehicles=1, clients=clients, groups=1)
    best = [_route(0, 1)]
    result = recombine(data, best, [_pool(data, _route(0, 2), _route(0, 1, 2))], time_limit_s=5.0)
    assert result is not None
    assert result[0] == (_route(0, 2),)
    assert result[1] == 30


def test_the_pool_holds_only_feasible_routes_of_the_search():
    """A search with RoutePool callbacks on 30 clients with windows and capacity: every pooled route is feasible
    and has its cost recorded, and the pool recombined with the best solution gives a feasible plan no costlier
    than it."""
    m = pyvrp.Model()
    rng = np.random.default_rng(3)
    xs, ys = rng.integers(0, 100, 31), rng.integers(0, 100, 31)
    locations = [m.add_location(x=int(x), y=int(y)) for x, y in zip(xs, ys, strict=True)]
    m.add_depot(locations[0])
    for loc in locations[1:]:
        m.add_client(loc, delivery=[int(rng.integers(1, 10))], tw_early=0, tw_late=400)
    m.add_vehicle_type(num_available=8, capacity=[40])
    for frm in locations:
        for to in locations:
            d = int(np.hypot(frm.x - to.x, frm.y - to.y))
            m.add_edge(frm, to, d, d)
    data = m.data()
    pool = RoutePool()
    params = pyvrp.SolveParams(ils=pyvrp.IteratedLocalSearchParams(callbacks=pool))
    result = pyvrp.solve(data, pyvrp.stop.MaxIterations(300), seed=2, params=params, collect_stats=False)
    assert result.best.is_feasible()
    pool.add(result.best)
    assert len(pool.routes) > len(result.best.routes())
    for key, cost in pool.routes.items():
        route = route_of(data, key)
        assert route.is_feasible()
        assert cost == route_cost(route)
    best = [route_key(r) for r in result.best.routes()]
    assert all(k in pool.routes for k in best)
    recombined = recombine(data, best, [pool.routes], time_limit_s=5.0)
    if recombined is not None:
        assert recombined[1] < objective(data, result.best)
        assert solution_of(data, recombined[0]).is_feasible()


def test_recombination_improves_a_solomon_plan_and_stays_deterministic():
    """Solomon RC105 through the planning path (`solver.solve`, one seed, iteration rules): recombining the
    routes the search met gives a valid plan cheaper than the search's best alone, and the same again on a
    second solve."""
    inst = read_vrptw(SOLOMON / "RC105.vrp")
    config = SolveConfig(
        seed=1,
        time_budget_s=60.0,
        no_improvement_iters=1000,
        max_iters=2000,
        max_depot_distance_m=None,
        recombine=True,
    )
    with_it = solve(inst.problem, config, travel_model=inst.travel_model)
    without = solve(inst.problem, replace(config, recombine=False), travel_model=inst.travel_model)
    again = solve(inst.problem, config, travel_model=inst.travel_model)
    assert validate(inst.problem, with_it, inst.travel_model) == []
    assert with_it.stats.stopped_by in {"no_improvement", "max_iters"}
    assert with_it.stats.objective < without.stats.objective
    assert again.routes == with_it.routes
