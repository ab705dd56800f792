"""Solve one depot's problem with PyVRP, or several depots in parallel processes.

``solve`` runs the pre-solve diagnostics, builds PyVRP's ``ProblemData`` from numpy matrices, searches until a
deterministic iteration rule (or the hard time budget) stops it, repairs an infeasible best solution by taking
the offending stops out, and converts the result into a :class:`~solver.model.Plan` of concrete vehicles.

With a :class:`~solver.timing.TimeDependentTravelModel` the search sees matrices for the hour each location is
expected to be left, and every route is then re-timed exactly (:func:`~solver.timing.retime_route`); an order
with a preferred window and a bonus enters the search as two alternative clients, one per window.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pyvrp
import pyvrp.stop

from solver.costs import eur_to_micro, micro_to_eur, route_cost_micro, unserved_penalty_micro, vehicle_rates
from solver.diagnostics import can_carry_skills, diagnose_left_out, presolve, reachable_alone, working_window
from solver.model import (
    Order,
    Plan,
    PlannedRoute,
    PlannedStop,
    Problem,
    SolveConfig,
    SolveStats,
    Unassigned,
    Vehicle,
)
from solver.timing import TimeDependentTravelModel, retime_route
from solver.travel import GreatCircleTravelModel, TravelMatrices, TravelModel

# An edge a vehicle may not use (the order needs a skill it lacks): long and slow enough to cost far more
# than any unserved penalty and to break every shift, yet small enough that route sums cannot overflow int64.
FORBIDDEN_DISTANCE_M = 100_000_000
FORBIDDEN_DURATION_S = 100_000_000
# Caps on PyVRP's penalty per gram of excess load and per second of time warp, in micro-EUR. PyVRP's default
# (1e5) makes 10 kg of overload cost less than one unserved order (1000 EUR = 1e9): on a depot with more demand
# than its fleet carries the search settles on overloaded routes and never returns a feasible solution (the
# demo's Triesen depot lost 2 orders that way). 1e6 fixes that on ordinary days and still leaves the search room
# to explore (a higher cap made the demo's Schaan plan 9% dearer). Only when the search still ends infeasible
# (a one-van depot with 80 orders) is it run again, in the remaining budget, with the rescue cap.
MAX_PENALTY = 1_000_000
RESCUE_MAX_PENALTY = 10_000_000


def default_no_improvement_iters(n_orders: int) -> int:
    """Default of :attr:`SolveConfig.no_improvement_iters`: ``max(200, n_orders)``."""
    return max(200, n_orders)


def default_max_iters(n_orders: int) -> int:
    """Default of :attr:`SolveConfig.max_iters`: ``max(1000, 2 * n_orders)``."""
    return max(1000, 2 * n_orders)


class _RecordingStop:
    """PyVRP stopping criterion that ends at the first of three rules and remembers which one."""

    def __init__(self, no_improvement_iters: int, max_iters: int, time_budget_s: float) -> None:
        self._no_improvement = pyvrp.stop.NoImprovement(no_improvement_iters)
        self._max_iters = pyvrp.stop.MaxIterations(max_iters)
        self._runtime = pyvrp.stop.MaxRuntime(time_budget_s)
        self.stopped_by = ""

    def __call__(self, best_cost: float) -> bool:
        # Evaluate every rule each call so their internal counters stay in step.
        fired = [
            ("no_improvement", self._no_improvement(best_cost)),
            ("max_iters", self._max_iters(best_cost)),
            ("time_budget", self._runtime(best_cost)),
        ]
        for name, done in fired:
            if done:
                self.stopped_by = name
                return True
        return False


@dataclass(frozen=True)
class _VehicleGroup:
    """Identical vehicles (all fields but the id), one PyVRP vehicle type."""

    vehicles: tuple[Vehicle, ...]
    profile: int


@dataclass(frozen=True)
class _Instance:
    """PyVRP data plus the maps back to the problem."""

    data: pyvrp.ProblemData
    client_orders: tuple[int, ...]  # client index -> index into problem.orders (two clients for a preferred window)
    groups: tuple[_VehicleGroup, ...]  # vehicle type index -> group


def _sorted_speeds(vehicles: Sequence[Vehicle]) -> list[float]:
    return sorted({float(v.speed_kmh) for v in vehicles})


def _search_depart_s(problem: Problem) -> np.ndarray:
    """Expected departure from the depot and from each order, seconds: the hours the search's matrices use.

    The depot: the earliest shift start (not before the depot opens). An order: the middle of its window
    within the fleet's day (earliest shift start to latest shift end), or of its window alone when the two
    do not overlap.
    """
    first = min(v.shift_start_s for v in problem.vehicles)
    last = max(v.shift_end_s for v in problem.vehicles)
    depart = [max(first, problem.depot.opens_s)]
    for o in problem.orders:
        early, late = max(o.tw_start_s, first), min(o.tw_end_s, last)
        depart.append((early + late) // 2 if early <= late else (o.tw_start_s + o.tw_end_s) // 2)
    return np.array(depart, dtype=np.int64)


def _has_preferred_alternative(order: Order) -> bool:
    """Whether an order enters the search as two clients: its window and its preferred window with a bonus.

    A preferred window that ends before midnight of the service date starts cannot be served and stays out.
    """
    return order.has_preferred_window and order.preferred_bonus_eur > 0 and order.preferred_tw_end_s >= 0


def _build_instance(
    problem: Problem,
    servable: Sequence[int],
    matrices: TravelMatrices,
    config: SolveConfig,
    search_matrices: TravelMatrices | None = None,
) -> _Instance:
    """PyVRP data for the servable orders.

    ``matrices`` decide which vehicles could serve anything; ``search_matrices`` (default ``matrices``) are
    the ones the search drives on. Both span ``[depot] + problem.orders``.
    """
    search_matrices = search_matrices or matrices
    orders = [problem.orders[i] for i in servable]
    depot = problem.depot
    # Location 0 is the depot, location k + 1 is client k.
    idx = np.array([0] + [i + 1 for i in servable], dtype=np.int64)
    sub = np.ix_(idx, idx)

    # Routing profiles: one per speed and set of skills that matter; a vehicle lacking a skill an order needs
    # gets forbidden edges into and out of that order.
    needed = frozenset().union(*(o.required_skills for o in orders))
    usable = _usable_vehicles(problem, servable, matrices)
    profile_keys: list[tuple[float, frozenset[str]]] = sorted(
        {(float(v.speed_kmh), v.skills & needed) for v in usable}, key=lambda k: (k[0], sorted(k[1]))
    )
    distance_matrices: list[np.ndarray] = []
    duration_matrices: list[np.ndarray] = []
    for speed, skills in profile_keys:
        p = search_matrices.profile(speed)
        dist = np.ascontiguousarray(search_matrices.distance_m[p][sub], dtype=np.int64)
        dur = np.ascontiguousarray(search_matrices.duration_s[p][sub], dtype=np.int64)
        banned = np.array([not o.required_skills <= skills for o in orders], dtype=bool)
        if banned.any():
            locs = np.flatnonzero(banned) + 1
            dist[locs, :] = FORBIDDEN_DISTANCE_M
            dist[:, locs] = FORBIDDEN_DISTANCE_M
            dur[locs, :] = FORBIDDEN_DURATION_S
            dur[:, locs] = FORBIDDEN_DURATION_S
            dist[locs, locs] = 0
            dur[locs, locs] = 0
        distance_matrices.append(dist)
        duration_matrices.append(dur)
    # PyVRP builds its granular neighbourhood from the first profile. With forbidden edges there, an order
    # needing a skill has no real neighbours and the search rarely inserts it, so put an unblocked profile
    # first, used by no vehicle, to keep neighbourhoods geographic.
    profile_offset = 0
    if any(not o.required_skills <= skills for o in orders for _, skills in profile_keys):
        base = search_matrices.profile(max(speed for speed, _ in profile_keys))
        distance_matrices.insert(0, np.ascontiguousarray(search_matrices.distance_m[base][sub], dtype=np.int64))
        duration_matrices.insert(0, np.ascontiguousarray(search_matrices.duration_s[base][sub], dtype=np.int64))
        profile_offset = 1

    groups_by_key: dict[tuple, list[Vehicle]] = {}
    for v in sorted(usable, key=lambda v: v.vehicle_id):
        key = (
            v.vehicle_type,
            v.capacity_weight_g,
            v.capacity_volume_cm3,
            v.shift_start_s,
            v.shift_end_s,
            float(v.speed_kmh),
            v.cost_per_km_eur,
            v.cost_per_hour_eur,
            v.cost_per_day_eur,
            tuple(sorted(v.skills)),
        )
        groups_by_key.setdefault(key, []).append(v)
    groups = tuple(
        _VehicleGroup(tuple(vs), profile_offset + profile_keys.index((float(vs[0].speed_kmh), vs[0].skills & needed)))
        for vs in groups_by_key.values()
    )

    locations = [pyvrp.Location(x=depot.lon, y=depot.lat, name=depot.depot_id)]
    locations += [pyvrp.Location(x=o.lon, y=o.lat, name=o.order_id) for o in orders]
    clients = []
    client_orders: list[int] = []
    client_groups: list[pyvrp.ClientGroup] = []
    must_plan = _skilled_orders_to_require(orders, usable)
    for k, o in enumerate(orders):
        load = [o.weight_g, o.volume_cm3]
        prize = unserved_penalty_micro(o, config)
        # An order with a preferred window is two clients at one location, of which the search serves at most
        # one (exactly one if the order is required): the preferred one collects the bonus on top of the prize.
        windows = [(o.tw_start_s, o.tw_end_s, prize)]
        group = None
        if _has_preferred_alternative(o):
            windows.append((o.preferred_tw_start_s, o.preferred_tw_end_s, prize + eur_to_micro(o.preferred_bonus_eur)))
            group = len(client_groups)
            client_groups.append(
                pyvrp.ClientGroup([len(clients), len(clients) + 1], required=k in must_plan, name=o.order_id)
            )
        for tw_start, tw_end, client_prize in windows:
            clients.append(
                pyvrp.Client(
                    location=k + 1,
                    delivery=load if o.order_type == "delivery" else [0, 0],
                    pickup=load if o.order_type == "pickup" else [0, 0],
                    service_duration=o.service_s,
                    tw_early=max(tw_start, 0),  # presolve guarantees tw_end_s is reachable, so >= 0
                    tw_late=tw_end,
                    prize=client_prize,
                    required=group is None and k in must_plan,  # PyVRP requires the group, not its members
                    group=group,
                    name=o.order_id,
                )
            )
            client_orders.append(servable[k])
    depots = [pyvrp.Depot(location=0, tw_early=depot.opens_s, tw_late=depot.closes_s, name=depot.depot_id)]
    vehicle_types = []
    for g in groups:
        v = g.vehicles[0]
        rates = vehicle_rates(v)
        early, late = working_window(v, problem)
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(g.vehicles),
                capacity=[v.capacity_weight_g, v.capacity_volume_cm3],
                start_depot=0,
                end_depot=0,
                fixed_cost=rates.fixed,
                tw_early=early,
                tw_late=late,
                unit_distance_cost=rates.per_m,
                unit_duration_cost=rates.per_s,
                profile=g.profile,
                name=v.vehicle_type,
            )
        )
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=distance_matrices,
        duration_matrices=duration_matrices,
        groups=client_groups,
    )
    return _Instance(data=data, client_orders=tuple(client_orders), groups=groups)


def _usable_vehicles(problem: Problem, servable: Sequence[int], matrices: TravelMatrices) -> list[Vehicle]:
    """The vehicles that could serve at least one servable order on a route of their own.

    A vehicle that can serve nothing (a shift too short to get anywhere and back, too small for every order)
    stays out of the search: PyVRP would otherwise park orders on it at the price of a capped time-warp or
    load penalty, and with a few such orders the best solution it returns can be infeasible as a whole.
    """
    reachable = reachable_alone(problem, matrices)[0][:, servable]
    weight = np.array([problem.orders[i].weight_g for i in servable], dtype=np.int64)
    volume = np.array([problem.orders[i].volume_cm3 for i in servable], dtype=np.int64)
    usable = []
    for k, vehicle in enumerate(problem.vehicles):
        fits = reachable[k] & (weight <= vehicle.capacity_weight_g) & (volume <= vehicle.capacity_volume_cm3)
        if any(can_carry_skills(vehicle, problem.orders[servable[j]]) for j in np.flatnonzero(fits)):
            usable.append(vehicle)
    return usable


def _skilled_orders_to_require(orders: Sequence[Order], vehicles: Sequence[Vehicle]) -> set[int]:
    """Positions of the orders needing a skill, when the vehicles with that skill can carry all of them.

    Skilled vehicles are scarce. With every order optional, the search fills them with ordinary parcels early
    and rarely finds the compound move that frees room for a pallet (the demo's Schaan depot lost two pallets
    that way; a 2,125-order depot lost most of its orders to a warm start instead). Making the skilled orders
    required lets PyVRP's penalties steer the search to place them. Only when their total load fits the
    skilled vehicles' total capacity, per skill: otherwise they stay optional, so an overloaded skilled fleet
    cannot make the whole search infeasible.
    """
    required: set[int] = set()
    for skill in sorted(frozenset().union(*(o.required_skills for o in orders))):
        needing = [k for k, o in enumerate(orders) if skill in o.required_skills]
        capable = [v for v in vehicles if skill in v.skills]
        fits = sum(orders[k].weight_g for k in needing) <= sum(v.capacity_weight_g for v in capable) and sum(
            orders[k].volume_cm3 for k in needing
        ) <= sum(v.capacity_volume_cm3 for v in capable)
        if fits:
            required.update(needing)
    return required


def _client_visits(route: pyvrp.Route) -> list[int]:
    return [a.idx for a in route.schedule() if a.type == pyvrp.ActivityType.CLIENT]


def _make_route(data: pyvrp.ProblemData, clients: Sequence[int], vehicle_type: int) -> pyvrp.Route:
    activities = [pyvrp.Activity(pyvrp.ActivityType.CLIENT, c) for c in clients]
    return pyvrp.Route(data, activities, vehicle_type)


def _repair(inst: _Instance, problem: Problem, route: pyvrp.Route) -> tuple[pyvrp.Route, list[int]]:
    """Take stops out of a route until it is feasible; a feasible route comes back unchanged.

    Returns the feasible route and the client indices taken out; those orders are left out of the plan and
    explained by the post-solve diagnostics.
    """
    data = inst.data
    vt = route.vehicle_type()
    vehicle = inst.groups[vt].vehicles[0]
    # Stops the vehicle lacks the skills for sit on forbidden edges: take them out first.
    clients = [c for c in _client_visits(route) if can_carry_skills(vehicle, problem.orders[inst.client_orders[c]])]
    if route.is_feasible() and len(clients) == route.num_clients():
        return route, []
    removed = [c for c in _client_visits(route) if c not in clients]
    route = _make_route(data, clients, vt)
    all_clients = data.clients()
    capacity = np.array(data.vehicle_type(vt).capacity, dtype=np.float64)
    while clients and not route.is_feasible():
        if route.has_excess_load():
            # Take out the stop with the largest share of the capacity that is exceeded.
            exceeded = np.array(route.excess_load()) > 0
            shares = []
            for c in clients:
                client = all_clients[c]
                load = np.array(client.delivery, dtype=np.float64) + np.array(client.pickup, dtype=np.float64)
                shares.append(float(np.max(load[exceeded] / np.maximum(capacity[exceeded], 1.0))))
            c = clients[int(np.argmax(shares))]
        else:
            late = [a.idx for a in route.schedule() if a.type == pyvrp.ActivityType.CLIENT and a.time_warp > 0]
            # Late at a stop: take that stop out; late only back at the depot: take the last stop out.
            c = late[0] if late else clients[-1]
        clients.remove(c)
        removed.append(c)
        route = _make_route(data, clients, vt)
    return route, removed


def _planned_route(
    problem: Problem, inst: _Instance, route: pyvrp.Route, vehicle: Vehicle, matrices: TravelMatrices
) -> PlannedRoute:
    p = matrices.profile(vehicle.speed_kmh)
    stops = []
    prev = 0
    weight = volume = 0
    for a in route.schedule():
        if a.type != pyvrp.ActivityType.CLIENT:
            continue
        oi = inst.client_orders[a.idx]
        order: Order = problem.orders[oi]
        loc = oi + 1
        stops.append(
            PlannedStop(
                order_id=order.order_id,
                sequence=len(stops) + 1,
                arrival_s=int(a.start_time - a.wait_duration),
                service_start_s=int(a.start_time),
                departure_s=int(a.end_time),
                wait_s=int(a.wait_duration),
                leg_distance_m=int(matrices.distance_m[p, prev, loc]),
                leg_duration_s=int(matrices.duration_s[p, prev, loc]),
                in_preferred_window=order.in_preferred_window(int(a.start_time)),
            )
        )
        if order.order_type == "delivery":
            weight += order.weight_g
            volume += order.volume_cm3
        prev = loc
    distance_m = int(route.distance())
    duration_s = int(route.duration())
    return PlannedRoute(
        route_id=f"{problem.depot.depot_id}-{vehicle.vehicle_id}",
        vehicle_id=vehicle.vehicle_id,
        vehicle_type=vehicle.vehicle_type,
        stops=tuple(stops),
        start_s=int(route.start_time()),
        end_s=int(route.end_time()),
        distance_m=distance_m,
        duration_s=duration_s,
        weight_g=weight,
        volume_cm3=volume,
        cost_eur=micro_to_eur(route_cost_micro(vehicle, distance_m, duration_s)),
    )


def _stops_and_budget(config: SolveConfig, n_clients: int, time_budget_s: float) -> _RecordingStop:
    no_improvement = config.no_improvement_iters or default_no_improvement_iters(n_clients)
    max_iters = config.max_iters or default_max_iters(n_clients)
    return _RecordingStop(no_improvement, max_iters, time_budget_s)


def _search(
    inst: _Instance, config: SolveConfig, n_clients: int, max_penalty: float, time_budget_s: float
) -> tuple[pyvrp.Result, _RecordingStop]:
    """One PyVRP search with the given penalty cap and time budget (s); the result and the stop that ended it."""
    params = pyvrp.SolveParams(
        penalty=pyvrp.PenaltyParams(solutions_between_updates=config.penalty_update_iters, max_penalty=max_penalty)
    )
    stop = _stops_and_budget(config, n_clients, time_budget_s)
    result = pyvrp.solve(inst.data, stop, seed=config.seed, collect_stats=False, display=False, params=params)
    return result, stop


def _objective_micro(
    problem: Problem, routes: Sequence[PlannedRoute], unassigned: Sequence[Unassigned], config: SolveConfig
) -> int:
    by_vehicle = {v.vehicle_id: v for v in problem.vehicles}
    by_order = {o.order_id: o for o in problem.orders}
    cost = sum(route_cost_micro(by_vehicle[r.vehicle_id], r.distance_m, r.duration_s) for r in routes)
    return cost + sum(unserved_penalty_micro(by_order[u.order_id], config) for u in unassigned)


def solve(problem: Problem, config: SolveConfig | None = None, travel_model: TravelModel | None = None) -> Plan:
    """Plan one depot's routes for one service date.

    Parameters
    ----------
    problem
        The depot, its orders and vehicles.
    config
        Time budget (s), seed, circuity, unserved penalties (EUR) and stopping rule; default
        ``SolveConfig()``.
    travel_model
        Distances and durations; default :class:`~solver.travel.GreatCircleTravelModel` with
        ``config.circuity``. With a :class:`~solver.timing.TimeDependentTravelModel` the search uses its
        :meth:`~solver.timing.TimeDependentTravelModel.banded_matrices` (the depot left at the earliest shift
        start, each order in the middle of its window within the fleet's day) and every route is re-timed
        exactly with :func:`~solver.timing.retime_route`: stops that then start after their window carry
        ``late_s`` (at risk), routes that end after the shift carry ``overtime_s``.

    Returns
    -------
    Plan
        Routes on concrete vehicles (each at most once) and every other order unassigned with a reason code.
        The plan always passes :func:`solver.validate.validate` with the same travel model. The same problem,
        config and travel model give the same plan unless ``stats.stopped_by == "time_budget"``.
    """
    started = time.perf_counter()
    config = config or SolveConfig()
    travel_model = travel_model or GreatCircleTravelModel(circuity=config.circuity)
    orders, vehicles = problem.orders, problem.vehicles

    timed = isinstance(travel_model, TimeDependentTravelModel)
    matrices = None
    if vehicles and orders:
        lat = np.array([problem.depot.lat] + [o.lat for o in orders], dtype=np.float64)
        lon = np.array([problem.depot.lon] + [o.lon for o in orders], dtype=np.float64)
        speeds = _sorted_speeds(vehicles)
        matrices = travel_model.matrices(lat, lon, speeds)
    servable, unassigned = presolve(problem, matrices, config.max_depot_distance_m)

    routes: list[PlannedRoute] = []
    build_s = search_s = 0.0
    iterations = 0
    feasible = True
    stopped_by = "nothing_to_solve"
    if servable:
        search_matrices = matrices
        if timed:
            search_matrices = travel_model.banded_matrices(lat, lon, speeds, _search_depart_s(problem))
        inst = _build_instance(problem, servable, matrices, config, search_matrices)
        build_s = time.perf_counter() - started
        search_started = time.perf_counter()
        result, stop = _search(inst, config, len(servable), MAX_PENALTY, config.time_budget_s)
        iterations = result.num_iterations
        remaining_s = config.time_budget_s - (time.perf_counter() - search_started)
        if not result.best.is_feasible() and remaining_s > 0:
            rescue, stop = _search(inst, config, len(servable), RESCUE_MAX_PENALTY, remaining_s)
            iterations += rescue.num_iterations
            if rescue.best.is_feasible() or rescue.cost() < result.cost():
                result = rescue
        search_s = time.perf_counter() - search_started
        stopped_by = stop.stopped_by
        feasible = result.best.is_feasible()

        # PyVRP's solutions visit each client group at most once, so no order is served twice.
        by_type: dict[int, list[pyvrp.Route]] = {}
        repaired_out: set[str] = set()
        for route in result.best.routes():
            route, removed = _repair(inst, problem, route)
            repaired_out.update(orders[inst.client_orders[c]].order_id for c in removed)
            if route.num_clients():
                by_type.setdefault(route.vehicle_type(), []).append(route)
        for vt, type_routes in sorted(by_type.items()):
            # Identical vehicles: hand them out in id order to routes in departure order.
            type_routes.sort(key=lambda r: (r.start_time(), _client_visits(r)))
            for route, vehicle in zip(type_routes, inst.groups[vt].vehicles, strict=False):
                planned_route = _planned_route(problem, inst, route, vehicle, search_matrices)
                routes.append(retime_route(planned_route, problem, travel_model) if timed else planned_route)
        routes.sort(key=lambda r: r.vehicle_id)

        planned = {s.order_id for r in routes for s in r.stops}
        left_out = [i for i in servable if orders[i].order_id not in planned]
        for u in diagnose_left_out(problem, left_out, routes, matrices):
            search_cut_short = stopped_by in ("max_iters", "time_budget")
            if u.reason_code == "NOT_WORTH_SERVING" and (
                u.order_id in repaired_out or not feasible or search_cut_short
            ):
                # The search ended on an infeasible solution (or this order's stop made it so), or hit its
                # iteration or time cap before converging: the search ran out, not the fleet.
                u = Unassigned(
                    u.order_id,
                    "SEARCH_LIMIT",
                    (
                        "the search stopped before it found a feasible place for it on a route that has room "
                        "and time; a longer time budget may plan it"
                    ),
                )
            unassigned.append(u)

    position = {o.order_id: i for i, o in enumerate(orders)}
    unassigned.sort(key=lambda u: position[u.order_id])
    stats = SolveStats(
        runtime_s=time.perf_counter() - started,
        iterations=iterations,
        objective=micro_to_eur(_objective_micro(problem, routes, unassigned, config)),
        feasible=feasible,
        n_orders=len(orders),
        n_vehicles=len(vehicles),
        stopped_by=stopped_by,
        search_s=search_s,
        build_s=build_s,
        travel_model_version=travel_model.version if timed else "",
    )
    return Plan(depot_id=problem.depot.depot_id, routes=tuple(routes), unassigned=tuple(unassigned), stats=stats)


def _solve_one(problem: Problem, config: SolveConfig | None, travel_model: TravelModel | None) -> Plan:
    return solve(problem, config, travel_model)


def solve_many(
    problems: Sequence[Problem],
    config: SolveConfig | None = None,
    processes: int = 2,
    travel_model: TravelModel | None = None,
) -> list[Plan]:
    """Solve several depots' problems in parallel processes.

    Workers are started with the ``spawn`` method, so this is safe inside multi-threaded hosts such as a
    Dagster run or pytest. As with any spawned pool, a script that calls this at import time must guard its
    entry point with ``if __name__ == "__main__":`` (workers re-import the main module). Each depot gets the
    same config (and seed), so the plans equal those of sequential :func:`solve` calls.

    Parameters
    ----------
    problems
        One problem per depot.
    config
        Shared solve configuration; default ``SolveConfig()``.
    processes
        Worker processes; ``1`` (or a single problem) solves in this process. Default 2.
    travel_model
        Shared travel model (must be picklable); default great-circle with ``config.circuity``.

    Returns
    -------
    list of Plan
        In the order of ``problems``.
    """
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    problems = list(problems)
    if processes == 1 or len(problems) <= 1:
        return [solve(p, config, travel_model) for p in problems]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(processes, len(problems)), mp_context=context) as pool:
        return list(pool.map(_solve_one, problems, repeat(config), repeat(travel_model)))
