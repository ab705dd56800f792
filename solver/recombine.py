"""Route recombination: the cheapest plan made of routes the searches have already met.

Every seed's search (:func:`solver.solve._search_seed`) passes feasible routes on its way: the routes of each
feasible candidate solution near the best one. Those routes are complete and feasible on their own, so any
choice of them that serves every required order once, and uses no more vehicles of a type than the fleet has,
is a valid plan. Picking the cheapest such choice is a set-partitioning problem, solved here as a mixed-integer
program with HiGHS, started from the best plan the searches found (so it can only get better, and it ends with
that plan when its time runs out). It recombines the good routes of different local optima, including those of
different seeds, which the local search cannot do by itself (measured on the Gehring & Homberger VRPTW instances:
docs/benchmarks.md).

The routes are kept as in :attr:`solver.solve._SearchOutcome.routes`: ``(vehicle type, ((activity type,
index), ...))`` without the start and end depot.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pyvrp
from pyvrp.IteratedLocalSearch import IteratedLocalSearchCallbacks

RouteKey = tuple[int, tuple[tuple[int, int], ...]]

# A candidate's routes enter the pool when the candidate is feasible and costs at most this much more than the
# best solution so far (2 %: set on a handful of GH200 instances, where the unfiltered pool of an R1 instance,
# 24,000 routes, left HiGHS without a better plan in its time; not tuned further).
POOL_WITHIN = 0.02
# The most routes one search keeps (memory and HiGHS time on large depots); the first ones met are kept.
POOL_MAX_ROUTES = 50_000
# Branch-and-bound nodes HiGHS may explore: a work limit, so a recombination that ends before its time limit
# gives the same plan every run.
MAX_NODES = 20_000
# Kept from HiGHS's time limit for what follows it (reading its solution, checking the plan), seconds.
FINISH_S = 0.05
# Share of the time left that HiGHS's own time limit gets (it is not a hard limit).
HIGHS_SHARE = 0.5

_CLIENT = int(pyvrp.ActivityType.CLIENT.value)


def route_key(route: pyvrp.Route) -> RouteKey:
    """The route as plain data: its vehicle type and its activities between the start and end depot."""
    return route.vehicle_type(), tuple((int(a.type.value), int(a.idx)) for a in list(route.schedule())[1:-1])


def route_cost(route: pyvrp.Route) -> int:
    """What the route adds to PyVRP's objective: its distance, duration (overtime included) and fixed costs."""
    return route.distance_cost() + route.duration_cost() + route.fixed_vehicle_cost()


class RoutePool(IteratedLocalSearchCallbacks):
    """PyVRP search callbacks that collect the routes of feasible candidates near the best solution, with their
    costs (:func:`route_cost`, taken here where the routes exist, so recombination need not rebuild them)."""

    def __init__(self, max_routes: int = POOL_MAX_ROUTES, within: float = POOL_WITHIN) -> None:
        self.routes: dict[RouteKey, int] = {}
        self._max_routes = max_routes
        self._within = within

    def on_iteration(self, current, candidate, best, cost_evaluator) -> None:  # noqa: ARG002 (PyVRP's signature)
        if len(self.routes) >= self._max_routes or not candidate.is_feasible() or not best.is_feasible():
            return
        if cost_evaluator.cost(candidate) > (1 + self._within) * cost_evaluator.cost(best):
            return
        self.add(candidate)

    def add(self, solution: pyvrp.Solution) -> None:
        for route in solution.routes():
            if len(self.routes) >= self._max_routes:
                return
            key = route_key(route)
            if key not in self.routes:
                self.routes[key] = route_cost(route)


def applies(data: pyvrp.ProblemData) -> bool:
    """Whether recombination handles the problem: not with paired pickup-and-delivery orders (shipments)."""
    return data.num_shipments == 0


def route_of(data: pyvrp.ProblemData, key: RouteKey) -> pyvrp.Route:
    """The PyVRP route of a :func:`route_key`."""
    vehicle_type, acts = key
    return pyvrp.Route(data, [pyvrp.Activity(pyvrp.ActivityType(t), idx) for t, idx in acts], vehicle_type)


def solution_of(data: pyvrp.ProblemData, keys: Iterable[RouteKey]) -> pyvrp.Solution:
    """The PyVRP solution of routes kept as plain data (:func:`route_key`)."""
    return pyvrp.Solution(data, [route_of(data, k) for k in keys])


def objective(data: pyvrp.ProblemData, solution: pyvrp.Solution) -> float:
    """PyVRP's objective of a solution (route costs plus prizes missed); infinite when it is infeasible."""
    evaluator = pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)
    return float(evaluator.cost(solution))


def recombine(
    data: pyvrp.ProblemData,
    best: Sequence[RouteKey],
    pools: Iterable[Mapping[RouteKey, int]],
    time_limit_s: float,
    seed: int = 0,
    max_nodes: int = MAX_NODES,
) -> tuple[tuple[RouteKey, ...], float] | None:
    """The cheapest feasible plan made of ``best``'s routes and those of ``pools`` (route -> :func:`route_cost`),
    if cheaper than ``best``.

    Rows: each order (a client, or a group of alternative clients) once when required, at most once when
    optional; per vehicle type at most its number of vehicles. Column cost: the route's cost minus the prizes
    of the optional clients it serves. The result is checked with PyVRP's own cost evaluator; ``None`` when
    nothing cheaper was found within ``time_limit_s`` (model building included) or ``max_nodes``.
    """
    import highspy

    started = time.monotonic()
    best = tuple(best)
    best_solution = solution_of(data, best)
    best_cost = objective(data, best_solution)
    if not np.isfinite(best_cost) or time_limit_s <= 0:
        return None
    cost_of = {route_key(r): route_cost(r) for r in best_solution.routes()}
    best_keys = set(cost_of)
    for pool in pools:
        for key, cost in pool.items():
            cost_of.setdefault(key, cost)
    keys = list(cost_of)
    if len(keys) <= len(best_keys):
        return None

    clients = data.clients()
    n_clients = data.num_clients
    # An order with alternative clients (several windows) is served once through its group's row.
    row_of = [i if c.group is None else n_clients + c.group for i, c in enumerate(clients)]
    required = [c.required and c.group is None for c in clients] + [g.required for g in data.groups()]
    prize = [0 if c.required else c.prize for c in clients]
    n_order_rows = n_clients + data.num_groups
    costs = np.empty(len(keys))
    index: list[int] = []
    starts = [0]
    for j, (vehicle_type, acts) in enumerate(keys):
        served = [idx for t, idx in acts if t == _CLIENT]
        costs[j] = cost_of[(vehicle_type, acts)] - sum(prize[c] for c in served)
        # A feasible route serves a client, and an order of alternative clients, at most once.
        index.extend(sorted({row_of[c] for c in served}))
        index.append(n_order_rows + vehicle_type)
        starts.append(len(index))

    lp = highspy.HighsLp()
    lp.num_col_ = len(keys)
    lp.num_row_ = n_order_rows + data.num_vehicle_types
    lp.col_cost_ = costs
    lp.col_lower_ = np.zeros(len(keys))
    lp.col_upper_ = np.ones(len(keys))
    lp.row_lower_ = np.concatenate([np.array(required, dtype=np.float64), np.zeros(data.num_vehicle_types)])
    lp.row_upper_ = np.concatenate(
        [np.ones(n_order_rows), np.array([vt.num_available for vt in data.vehicle_types()], dtype=np.float64)]
    )
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(len(index))
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(keys)

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    # Presolve spent all of 6 s on a 26,000-route pool of an R1 instance before branching started; without it
    # HiGHS reaches the LP bound at once (and solved an RC2 pool in 0.6 s instead of 2.5 s).
    highs.setOptionValue("presolve", "off")
    highs.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    highs.setOptionValue("mip_max_nodes", int(max_nodes))
    left = time_limit_s - (time.monotonic() - started)
    if left <= FINISH_S:
        return None
    # HiGHS overran its limit by up to 1.9 s on GH200 pools (an LP solve it does not interrupt): it gets the
    # part of what is left that kept the solve within budget there.
    highs.setOptionValue("time_limit", HIGHS_SHARE * left - FINISH_S)
    highs.passModel(lp)
    start = highspy.HighsSolution()
    start.col_value = [1.0 if k in best_keys else 0.0 for k in keys]
    start.value_valid = True
    highs.setSolution(start)
    highs.run()
    values = np.asarray(highs.getSolution().col_value)
    if values.size != len(keys):
        return None
    chosen = tuple(keys[j] for j in np.flatnonzero(values > 0.5))
    cost = objective(data, solution_of(data, chosen))
    # HiGHS reports its objective in its presolved space when given a start (1.16), so judge by PyVRP's.
    if not cost < best_cost:
        return None
    return chosen, cost
