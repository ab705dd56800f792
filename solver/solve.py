"""Solve one depot's problem with PyVRP, or several depots in parallel processes.

``solve`` runs the pre-solve diagnostics, builds PyVRP's ``ProblemData`` from numpy matrices, searches until a
deterministic iteration rule (or the hard time budget) stops it, repairs an infeasible best solution by taking
the offending stops out, and converts the result into a :class:`~solver.model.Plan` of concrete vehicles.

With a :class:`~solver.timing.TimeDependentTravelModel` the search sees matrices for the hour each location is
expected to be left, and every route is then re-timed exactly (:func:`~solver.timing.retime_route`); an order
with a preferred window and a bonus enters the search as two alternative clients, one per window.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields, replace
from itertools import repeat

import numpy as np
import pyvrp
import pyvrp.stop

from solver import recombine as recombination
from solver.costs import eur_to_micro, micro_to_eur, route_cost_micro, unserved_penalty_micro, vehicle_rates
from solver.diagnostics import can_carry_skills, diagnose_left_out, presolve, reachable_alone
from solver.model import (
    Order,
    Plan,
    PlannedReload,
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
# An edge that puts an order on the wrong trip of a vehicle on the road (a parcel waiting at the depot on the trip
# with what is on board): ten hours' drive, in time only. Unlike a forbidden edge, a search with low time-warp
# penalties still inserts a new order there, from where its RelocateWithDepot move puts the order after a
# reload (PyVRP inserts an unplanned order only next to another stop, so with forbidden edges an order only a
# vehicle on the road could serve was never planned). Routes left on a wrong trip are repaired (_repair).
WRONG_TRIP_DURATION_S = 10 * 3600
# Caps on PyVRP's penalty per gram of excess load and per second of time warp, in micro-EUR. PyVRP's default
# (1e5) makes 10 kg of overload cost less than one unserved order (1000 EUR = 1e9): on a depot with more demand
# than its fleet carries the search settles on overloaded routes and never returns a feasible solution (the
# demo's Triesen depot lost 2 orders that way). 1e6 fixes that on ordinary days and still leaves the search room
# to explore (a higher cap made the demo's Schaan plan 9% dearer). Only when the search still ends infeasible
# (a one-van depot with 80 orders) is it run again, in the remaining budget, with the rescue cap.
MAX_PENALTY = 1_000_000
RESCUE_MAX_PENALTY = 10_000_000
# No limit, for PyVRP fields that take one (capacity without a parcels limit, shift duration, distance).
UNLIMITED = 2**62
# Wall time kept back from the time budget for what follows the search (repair, breaks, re-timing, diagnostics),
# seconds, and the least a search is given.
FINISH_RESERVE_S = 0.15
# A warm start's missing orders are inserted next to their this many nearest planned stops, within this many
# seconds (the rest is left to the search), and for at least the least of them even when the search's own budget
# is already spent.
INSERTION_NEIGHBOURS = 12
INSERTION_BUDGET_S = 2.0
INSERTION_MIN_S = 0.25
# A required order the warm start lacks is tried at this many places, the least late ones, each then repaired.
REQUIRED_TRIES = 3
# Parcels enter PyVRP's load as thousandths, like kilograms in grams: PyVRP caps its penalty per unit of excess
# load (MAX_PENALTY), and at one unit per parcel an overloaded route cost 1 EUR per parcel, so the search
# overloaded cargo bikes instead of sending them back to reload.
PARCEL_UNITS = 1000
# Share of the search budget kept back for route recombination (solver.recombine), and the least worth starting
# HiGHS for, seconds. On GH200 at 30 s, 24 s of search and 6 s of recombination did not beat 30 s of search
# (0.200 % against 0.177 %, docs/benchmarks.md), hence SolveConfig.recombine is off by default.
RECOMBINE_SHARE = 0.2
RECOMBINE_MIN_S = 0.2


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
    client_orders: tuple[int, ...]  # client index -> index into problem.orders (several per order with many windows)
    shipment_orders: tuple[tuple[int, int], ...]  # shipment index -> (pickup order, delivery order)
    groups: tuple[_VehicleGroup, ...]  # vehicle type index -> group
    depot_locations: tuple[int, ...]  # PyVRP depot index -> location in the full matrices
    dims: tuple[int, ...]  # PyVRP load dimension -> 0 weight, 1 volume, 2 parcels
    search_locations: np.ndarray  # PyVRP location -> location in the full matrices
    # Vehicle types whose route may begin with a reload (Vehicle.reload_first: a vehicle on the road drives to its
    # depot with what it carries, loads and goes); elsewhere a reload before the first stop separates nothing.
    lead_reload: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Limits:
    """A vehicle's day as the search sees it: seconds since local midnight, metres."""

    early: int  # earliest departure from the start depot
    paid_end: int  # end of the paid shift at the end depot (overtime after it)
    hard_end: int  # latest return, overtime included
    max_duration: int  # longest route, overtime included
    reserve: int  # break time the search keeps free


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
    depart += [max(first, d.opens_s) for d in problem.depots]
    return np.array(depart, dtype=np.int64)


def _has_preferred_alternative(order: Order) -> bool:
    """Whether an order enters the search as two clients: its window and its preferred window with a bonus.

    A preferred window that ends before midnight of the service date starts cannot be served and stays out.
    """
    return order.has_preferred_window and order.preferred_bonus_eur > 0 and order.preferred_tw_end_s >= 0


def _limits(vehicle: Vehicle, problem: Problem) -> _Limits:
    start, end = problem.start_depot(vehicle), problem.end_depot(vehicle)
    early = max(vehicle.shift_start_s, start.opens_s)
    paid_end = min(vehicle.shift_end_s, end.closes_s)
    hard_end = min(vehicle.shift_end_s + vehicle.max_overtime_s, end.closes_s)
    max_duration = vehicle.max_duration_s if vehicle.max_duration_s is not None else UNLIMITED
    needs_break = vehicle.break_s > 0 and vehicle.break_earliest_s is not None and vehicle.break_earliest_s < hard_end
    return _Limits(early, paid_end, hard_end, max_duration, vehicle.break_s if needs_break else 0)


def _order_windows(order: Order) -> list[tuple[int, int]]:
    """The order's windows a route can use: those that end on or after midnight of the service date."""
    return [(max(start, 0), end) for start, end in order.windows if end >= max(start, 0)]


@dataclass(frozen=True)
class _BreakSlack:
    """How the search keeps room for breaks: windows closing after ``after_s`` close ``slack_s`` earlier."""

    after_s: int
    slack_s: int

    def window(self, start: int, end: int) -> tuple[int, int]:
        if end <= self.after_s:
            return start, end
        return start, max(start, end - self.slack_s)


def _ready_window(slack: _BreakSlack, start: int, end: int, release: int) -> tuple[int, int]:
    """The window ``start``-``end`` of an order ready at ``release`` (``<= end``) with the break slack taken off,
    never closing before ``release``."""
    start, late = slack.window(start, end)
    return start, max(late, release)


def _break_slack(problem: Problem, vehicles: Sequence[Vehicle]) -> _BreakSlack | None:
    """Slack in the windows for the breaks of ``vehicles``; ``None`` when none of them takes one.

    The search cannot place breaks: a break placed after it delays every later stop by up to its length. With
    each window that closes after the earliest break window opens closing a break earlier in the search, every
    later stop has that much to spare, so the break fits after any stop that leaves within the break window
    (a demo day with a 30-min break on every shift lost 80 of 1,100 orders without it).
    """
    taking = [v for v in vehicles if _limits(v, problem).reserve]
    if not taking:
        return None
    return _BreakSlack(min(v.break_earliest_s for v in taking), max(v.break_s for v in taking))


def _load(order: Order, dims: Sequence[int] = (0, 1, 2)) -> list[int]:
    """The order's load in PyVRP's units (grams, cm3, thousandths of a parcel), in the dimensions ``dims``."""
    full = (order.weight_g, order.volume_cm3, order.parcels * PARCEL_UNITS)
    return [full[d] for d in dims]


def _capacity(vehicle: Vehicle, dims: Sequence[int] = (0, 1, 2)) -> list[int]:
    parcels = UNLIMITED if vehicle.capacity_parcels is None else vehicle.capacity_parcels * PARCEL_UNITS
    full = (vehicle.capacity_weight_g, vehicle.capacity_volume_cm3, parcels)
    return [full[d] for d in dims]


def _binding_dimensions(orders: Sequence[Order], vehicles: Sequence[Vehicle]) -> tuple[int, ...]:
    """The load dimensions that can limit a route: those where all orders together exceed some vehicle's room.

    Every dimension costs PyVRP time in each move it evaluates; one that no route can overload (no parcels
    limit, volumes of zero in a benchmark) is left out. At least weight stays, so the search has a load.
    """
    if not orders or not vehicles:
        return (0,)
    total = np.array([_load(o) for o in orders], dtype=np.float64).sum(axis=0)
    smallest = np.array([_capacity(v) for v in vehicles], dtype=np.float64).min(axis=0)
    dims = tuple(int(d) for d in np.flatnonzero(total > smallest))
    return dims or (0,)


def _build_instance(
    problem: Problem,
    servable: Sequence[int],
    matrices: TravelMatrices,
    config: SolveConfig,
    search_matrices: TravelMatrices | None = None,
) -> _Instance:
    """PyVRP data for the servable orders.

    ``matrices`` decide which vehicles could serve anything; ``search_matrices`` (default ``matrices``) are
    the ones the search drives on. Both span ``[depot] + problem.orders + problem.depots``.
    """
    search_matrices = search_matrices or matrices
    n_orders = len(problem.orders)
    servable = list(servable)
    orders = [problem.orders[i] for i in servable]
    # Search location 0 is the depot, k + 1 is servable order k, then the other depots.
    idx = np.array(
        [0] + [i + 1 for i in servable] + [n_orders + 1 + j for j in range(len(problem.depots))], dtype=np.int64
    )
    sub = np.ix_(idx, idx)
    depot_search_loc = [0] + [len(servable) + 1 + j for j in range(len(problem.depots))]

    # Routing profiles: one per speed, set of skills that matter and edges of its own; a vehicle lacking a skill
    # an order needs gets forbidden edges into and out of that order (and so do orders on board of another
    # vehicle), a vehicle on the road with orders on board gets forbidden edges that keep depot parcels off its
    # first trip,
    # and a move penalty lengthens the edges into an order for every vehicle but its current one.
    needed = frozenset().union(*(o.required_skills for o in orders))
    usable = _usable_vehicles(problem, servable, matrices)
    loaded_on = problem.on_board_vehicle()
    penalised = [k for k, o in enumerate(orders) if o.current_vehicle_id is not None and o.move_penalty_eur > 0]

    def profile_key(v: Vehicle) -> tuple:
        own = None
        if penalised:
            current = frozenset(k for k in penalised if orders[k].current_vehicle_id == v.vehicle_id)
            own = (current, vehicle_rates(v).per_m)
        loaded = None
        if v.on_board is not None:
            loaded = (v.on_board, problem.start_depot(v).depot_id, problem.reload_depot(v).depot_id)
        return (float(v.speed_kmh), v.skills & needed, loaded, own)

    def key_order(key: tuple) -> tuple:
        loaded = (sorted(key[2][0]), key[2][1], key[2][2]) if key[2] is not None else ()
        own = (sorted(key[3][0]), key[3][1]) if key[3] is not None else ()
        return (key[0], sorted(key[1]), loaded, own)

    depot_pos = {d.depot_id: j for j, d in enumerate(problem.all_depots)}
    profile_keys = sorted({profile_key(v) for v in usable}, key=key_order)
    owner = {profile_key(v): v for v in sorted(usable, key=lambda v: v.vehicle_id, reverse=True)}
    distance_matrices: list[np.ndarray] = []
    duration_matrices: list[np.ndarray] = []
    modified = False
    for key in profile_keys:
        speed, skills, loaded_key, own = key
        on_board = None if loaded_key is None else loaded_key[0]
        vehicle = owner[key]
        p = search_matrices.profile(speed)
        dist = np.ascontiguousarray(search_matrices.distance_m[p][sub], dtype=np.int64)
        dur = np.ascontiguousarray(search_matrices.duration_s[p][sub], dtype=np.int64)
        if own is not None and own[1] > 0:
            # The penalty enters as extra metres into the order, at this vehicle's cost per metre.
            for k in penalised:
                if k not in own[0]:
                    extra = int(round(eur_to_micro(orders[k].move_penalty_eur) / own[1]))
                    dist[:, k + 1] += extra
                    dist[k + 1, k + 1] -= extra
                    modified = True
        banned = np.array(
            [
                not o.required_skills <= skills or loaded_on.get(o.order_id, vehicle.vehicle_id) != vehicle.vehicle_id
                for o in orders
            ],
            dtype=bool,
        )
        if banned.any():
            locs = np.flatnonzero(banned) + 1
            dist[locs, :] = FORBIDDEN_DISTANCE_M
            dist[:, locs] = FORBIDDEN_DISTANCE_M
            dur[locs, :] = FORBIDDEN_DURATION_S
            dur[:, locs] = FORBIDDEN_DURATION_S
            dist[locs, locs] = 0
            dur[locs, locs] = 0
            modified = True
        if on_board is not None:
            # The first trip serves nothing loaded at the depot: that waits for a reload. What is on board goes on
            # any trip of its van: a parcel with an evening window rides along through a reload (it stays in the
            # van, and the trip that delivers it counts its load) instead of keeping the van out until then.
            loaded = np.array([o.order_id in on_board for o in orders], dtype=bool)
            held = ~loaded & ~banned & np.array([o.order_type == "delivery" and o.shipment_id is None for o in orders])
            start_loc = depot_search_loc[depot_pos[problem.start_depot(vehicle).depot_id]]
            loaded_locs, held_locs = np.flatnonzero(loaded) + 1, np.flatnonzero(held) + 1
            # Pickups (and shipment legs) go on any trip, but do not lead into a depot parcel: a path from the van's
            # position through a pickup into one was a first trip without the reload.
            other_locs = np.flatnonzero(~loaded & ~held & ~banned) + 1
            rows = [start_loc, *loaded_locs, *other_locs]
            if len(held_locs):
                dur[np.ix_(rows, held_locs)] = WRONG_TRIP_DURATION_S
                modified = True
        distance_matrices.append(dist)
        duration_matrices.append(dur)
    # PyVRP builds its granular neighbourhood from the first profile. With forbidden edges there, an order
    # needing a skill has no real neighbours and the search rarely inserts it, so put an unblocked profile
    # first, used by no vehicle, to keep neighbourhoods geographic.
    profile_offset = 0
    if modified:
        base = search_matrices.profile(max(key[0] for key in profile_keys))
        distance_matrices.insert(0, np.ascontiguousarray(search_matrices.distance_m[base][sub], dtype=np.int64))
        duration_matrices.insert(0, np.ascontiguousarray(search_matrices.duration_s[base][sub], dtype=np.int64))
        profile_offset = 1

    groups_by_key: dict[tuple, list[Vehicle]] = {}
    for v in sorted(usable, key=lambda v: v.vehicle_id):
        key = tuple(
            (f.name, getattr(v, f.name)) for f in fields(Vehicle) if f.name != "vehicle_id"
        )  # every field but the id, and the edges it drives on
        groups_by_key.setdefault((key, profile_key(v)), []).append(v)
    groups = tuple(
        _VehicleGroup(tuple(vs), profile_offset + profile_keys.index(profile_key(vs[0])))
        for vs in groups_by_key.values()
    )

    all_depots = problem.all_depots
    locations = [pyvrp.Location(x=all_depots[0].lon, y=all_depots[0].lat, name=all_depots[0].depot_id)]
    locations += [pyvrp.Location(x=o.lon, y=o.lat, name=o.order_id) for o in orders]
    locations += [pyvrp.Location(x=d.lon, y=d.lat, name=d.depot_id) for d in problem.depots]
    # One PyVRP depot per depot to start and end at (no service time), and one more at the same place where
    # vehicles reload, carrying the reload time (PyVRP also charges a depot's service time at the start).
    depots = [
        pyvrp.Depot(location=depot_search_loc[j], tw_early=d.opens_s, tw_late=d.closes_s, name=d.depot_id)
        for j, d in enumerate(all_depots)
    ]
    depot_locations = [0] + [n_orders + 1 + j for j in range(len(problem.depots))]
    reload_depot: dict[str, int] = {}
    for v in usable:
        start = problem.reload_depot(v)
        if v.max_reloads and start.depot_id not in reload_depot:
            j = [d.depot_id for d in all_depots].index(start.depot_id)
            reload_depot[start.depot_id] = len(depots)
            depots.append(
                pyvrp.Depot(
                    location=depot_search_loc[j],
                    tw_early=start.opens_s,
                    tw_late=start.closes_s,
                    service_duration=start.reload_s,
                    name=f"{start.depot_id} reload",
                )
            )
            depot_locations.append(depot_locations[j])
    depot_index = {d.depot_id: j for j, d in enumerate(all_depots)}

    clients: list[pyvrp.Client] = []
    client_orders: list[int] = []
    client_groups: list[pyvrp.ClientGroup] = []
    shipments: list[pyvrp.Shipment] = []
    shipment_orders: list[tuple[int, int]] = []
    must_plan = _skilled_orders_to_require(orders, usable)
    dims = _binding_dimensions(orders, usable)
    slack = _break_slack(problem, usable) or _BreakSlack(UNLIMITED, 0)
    paired: dict[str, dict[str, int]] = {}
    for k, o in enumerate(orders):
        if o.shipment_id is not None:
            paired.setdefault(o.shipment_id, {})[o.order_type] = k
            continue
        prize = unserved_penalty_micro(o, config)
        required = k in must_plan or o.priority == "mandatory"
        # An order with several windows (or a preferred window worth a bonus) is one client per window at one
        # location, of which the search serves at most one (exactly one if the order is required).
        # PyVRP wants each client's release time by its window's end: a window that closes before the order is
        # ready at the depot is left out (pre-solve made sure one is left), and the break slack never closes a
        # window before the order is ready.
        release = max(0, o.release_s)
        windows = [
            (*_ready_window(slack, start, end, release), prize) for start, end in _order_windows(o) if end >= release
        ]
        if _has_preferred_alternative(o) and o.preferred_tw_end_s >= release:
            start, end = _ready_window(slack, max(o.preferred_tw_start_s, 0), o.preferred_tw_end_s, release)
            windows.append((start, end, prize + eur_to_micro(o.preferred_bonus_eur)))
        if not windows:
            raise ValueError(
                f"order {o.order_id} reached the search with every window closing before it is ready at "
                f"{o.release_s} s; pre-solve should have left it out"
            )
        group = None
        if len(windows) > 1:
            group = len(client_groups)
            members = list(range(len(clients), len(clients) + len(windows)))
            client_groups.append(pyvrp.ClientGroup(members, required=required, name=o.order_id))
        for tw_start, tw_end, client_prize in windows:
            clients.append(
                pyvrp.Client(
                    location=k + 1,
                    delivery=_load(o, dims) if o.order_type == "delivery" else [0] * len(dims),
                    pickup=_load(o, dims) if o.order_type == "pickup" else [0] * len(dims),
                    service_duration=o.service_s,
                    tw_early=tw_start,
                    tw_late=tw_end,
                    release_time=release,
                    prize=client_prize,
                    required=group is None and required,  # PyVRP requires the group, not its members
                    group=group,
                    name=o.order_id,
                )
            )
            client_orders.append(servable[k])
    for shipment_id in sorted(paired):
        ends = paired[shipment_id]
        if len(ends) != 2:  # presolve takes both ends out together; a lone end here is a bug upstream
            raise ValueError(f"shipment {shipment_id} reached the search with one end only")
        pickup, delivery = orders[ends["pickup"]], orders[ends["delivery"]]
        required = "mandatory" in (pickup.priority, delivery.priority)
        pw, dw = slack.window(*_order_windows(pickup)[0]), slack.window(*_order_windows(delivery)[0])
        shipments.append(
            pyvrp.Shipment(
                pickup_location=ends["pickup"] + 1,
                delivery_location=ends["delivery"] + 1,
                pickup_tw_early=pw[0],
                pickup_tw_late=pw[1],
                pickup_service_duration=pickup.service_s,
                delivery_tw_early=dw[0],
                delivery_tw_late=dw[1],
                delivery_service_duration=delivery.service_s,
                amount=_load(pickup, dims),
                prize=unserved_penalty_micro(pickup, config) + unserved_penalty_micro(delivery, config),
                required=required,
                name=shipment_id,
            )
        )
        shipment_orders.append((servable[ends["pickup"]], servable[ends["delivery"]]))

    vehicle_types = []
    for g in groups:
        v = g.vehicles[0]
        rates = vehicle_rates(v)
        limits = _limits(v, problem)
        start_j, end_j = depot_index[problem.start_depot(v).depot_id], depot_index[problem.end_depot(v).depot_id]
        type_fields = dict(
            num_available=len(g.vehicles),
            capacity=_capacity(v, dims),
            start_depot=start_j,
            end_depot=end_j,
            fixed_cost=rates.fixed,
            tw_early=limits.early,
            tw_late=max(limits.early, limits.hard_end - limits.reserve),
            max_distance=v.max_distance_m if v.max_distance_m is not None else UNLIMITED,
            unit_distance_cost=rates.per_m,
            unit_duration_cost=rates.per_s,
            profile=g.profile,
            name=v.vehicle_type,
        )
        if v.max_reloads:
            reload_j = reload_depot[problem.reload_depot(v).depot_id]
            type_fields.update(reload_depots=[reload_j], max_reloads=v.max_reloads)
        if v.max_overtime_s:
            # The route leaves at the start of the shift, so time beyond the shift's length is time after its end.
            shift = max(0, limits.paid_end - limits.early - limits.reserve)
            type_fields.update(
                start_late=limits.early,
                shift_duration=shift,
                max_overtime=max(0, min(v.max_overtime_s, limits.max_duration - limits.reserve - shift)),
                unit_overtime_cost=rates.per_overtime_s,
            )
        else:
            type_fields.update(shift_duration=max(0, limits.max_duration - limits.reserve))
        vehicle_types.append(pyvrp.VehicleType(**type_fields))
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=distance_matrices,
        duration_matrices=duration_matrices,
        groups=client_groups,
        shipments=shipments,
    )
    return _Instance(
        data=data,
        client_orders=tuple(client_orders),
        shipment_orders=tuple(shipment_orders),
        groups=groups,
        depot_locations=tuple(depot_locations),
        search_locations=idx,
        dims=dims,
        lead_reload=frozenset(
            vt for vt, (g, t) in enumerate(zip(groups, vehicle_types, strict=True))
            if t.reload_depots and g.vehicles and g.vehicles[0].reload_first
        ),
    )


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


@dataclass(frozen=True)
class _Visit:
    """One visit of a route between its start and end: an order (with the window the search chose) or a reload."""

    order: int | None  # index into problem.orders; None for a reload at the start depot
    location: int  # location in the full matrices
    tw_start: int
    tw_end: int


def _visits(inst: _Instance, problem: Problem, route: pyvrp.Route) -> list[_Visit]:
    """The visits of a PyVRP route in order, start and end depot left out."""
    data = inst.data
    clients = data.clients()  # a fresh list of every client per call: once per route, not per stop
    visits = []
    for a in list(route.schedule())[1:-1]:
        if a.type == pyvrp.ActivityType.DEPOT:
            visits.append(_Visit(None, inst.depot_locations[a.idx], 0, 0))
            continue
        if a.type == pyvrp.ActivityType.CLIENT:
            oi = inst.client_orders[a.idx]
            visits.append(_Visit(oi, oi + 1, *_real_window(problem.orders[oi], clients[a.idx].tw_early)))
            continue
        pickup = a.type == pyvrp.ActivityType.PICKUP
        step = data.shipments()[a.idx].pickup if pickup else data.shipments()[a.idx].delivery
        oi = inst.shipment_orders[a.idx][0 if pickup else 1]
        visits.append(_Visit(oi, oi + 1, *_real_window(problem.orders[oi], step.tw_early)))
    return visits


def _real_window(order: Order, search_start: int) -> tuple[int, int]:
    """When a stop may start: from the start of the search's window for it (a preferred window's, where the
    search chose that) to the end of the order's own window that contains it. The search's windows close early
    to leave room for breaks (:class:`_BreakSlack`); the stops' real windows are the orders'."""
    end = next((e for s, e in _order_windows(order) if s <= search_start <= e), _order_windows(order)[0][1])
    return search_start, end


def _activities(inst: _Instance, route: pyvrp.Route) -> list[pyvrp.Activity]:
    return [pyvrp.Activity(a.type, a.idx) for a in list(route.schedule())[1:-1]]


def _tidy(inst: _Instance, activities: list[pyvrp.Activity], vt: int) -> list[pyvrp.Activity]:
    """Drop reloads that no longer separate two trips (at either end, or twice in a row)."""
    return _tidy_without(activities, _owners(inst, activities), None, vt in inst.lead_reload)


def _without(inst: _Instance, activities: list[pyvrp.Activity], order: int, vt: int) -> list[pyvrp.Activity]:
    """The activities without those of one order (both ends of a shipment)."""
    return _tidy_without(activities, _owners(inst, activities), order, vt in inst.lead_reload)


def _owners(inst: _Instance, activities: Sequence[pyvrp.Activity]) -> list[tuple[int, ...]]:
    """Per activity, the orders whose removal takes it out: its order, both orders of a shipment's end, none for a
    reload. Read once per route: a repair tries dozens of removals on it, and reading the activities' types and
    indices through PyVRP's bindings at every try took 17 s of a 10 s default-scale re-plan."""
    client, depot = pyvrp.ActivityType.CLIENT, pyvrp.ActivityType.DEPOT
    owners: list[tuple[int, ...]] = []
    for a in activities:
        kind = a.type
        if kind == client:
            owners.append((inst.client_orders[a.idx],))
        elif kind == depot:
            owners.append(())
        else:
            owners.append(tuple(inst.shipment_orders[a.idx]))
    return owners


def _tidy_without(
    activities: Sequence[pyvrp.Activity],
    owners: Sequence[tuple[int, ...]],
    order: int | None,
    lead_reload: bool = False,
) -> list[pyvrp.Activity]:
    """The activities without those ``order`` owns (:func:`_owners`; ``None``: none taken out), less the reloads
    that then separate no two trips (at either end, or twice in a row). With ``lead_reload`` (a vehicle on the
    road, :attr:`_Instance.lead_reload`) a reload first is kept: the van drives to its depot with what it carries,
    loads and sets off on its next trip."""
    tidy: list[pyvrp.Activity] = []
    after_depot = not lead_reload  # a reload first, or right after another, separates nothing
    for a, owned_by in zip(activities, owners, strict=True):
        if order in owned_by:
            continue
        if not owned_by:
            if after_depot:
                continue
            after_depot = True
        else:
            after_depot = False
        tidy.append(a)
    if tidy and after_depot:
        tidy.pop()
    return tidy


def _activity_order(inst: _Instance, a: pyvrp.Activity) -> int | None:
    if a.type == pyvrp.ActivityType.CLIENT:
        return inst.client_orders[a.idx]
    if a.type == pyvrp.ActivityType.PICKUP:
        return inst.shipment_orders[a.idx][0]
    if a.type == pyvrp.ActivityType.DELIVERY:
        return inst.shipment_orders[a.idx][1]
    return None


def _skill_or_trip_misfits(
    inst: _Instance, problem: Problem, vehicle: Vehicle, activities: list[pyvrp.Activity]
) -> list[int]:
    """Orders of a route the vehicle may not serve there: lacking skills, on board of another vehicle, or for a
    vehicle on the road (:attr:`~solver.model.Vehicle.on_board`) a depot parcel on its first trip."""
    loaded_on = problem.on_board_vehicle()
    misfits: list[int] = []
    trip = 0
    for a in activities:
        if a.type == pyvrp.ActivityType.DEPOT:
            trip += 1
            continue
        oi = _activity_order(inst, a)
        if oi is None or oi in misfits:
            continue
        order = problem.orders[oi]
        wrong = not can_carry_skills(vehicle, order) or loaded_on.get(order.order_id, vehicle.vehicle_id) != (
            vehicle.vehicle_id
        )
        if vehicle.on_board is not None and trip == 0:
            loaded_at_depot = order.order_type == "delivery" and order.shipment_id is None
            wrong |= loaded_at_depot and order.order_id not in vehicle.on_board
        if wrong:
            misfits.append(oi)
    return misfits


def _repair(
    inst: _Instance, problem: Problem, route: pyvrp.Route, keep: frozenset[int] = frozenset()
) -> tuple[pyvrp.Route | None, list[int]]:
    """Take stops out of a route until PyVRP calls it feasible; a feasible route comes back unchanged. The orders
    in ``keep`` (indices into ``problem.orders``) are taken out only when nothing else is left to take out.

    Returns the feasible route (``None`` when no stop is left) and the indices into ``problem.orders`` taken
    out; those orders are left out of the plan and explained by the post-solve diagnostics.
    """
    data = inst.data
    vt = route.vehicle_type()
    vehicle = inst.groups[vt].vehicles[0]
    activities = _activities(inst, route)
    removed: list[int] = []
    # Stops the vehicle lacks the skills for sit on forbidden edges, and stops on the wrong trip of a vehicle on
    # the road on edges that may not be late enough to show: take them out first.
    for oi in _skill_or_trip_misfits(inst, problem, vehicle, activities):
        removed.append(oi)
        activities = _without(inst, activities, oi, vt)
    tidy = _tidy(inst, activities, vt)
    if not removed and len(tidy) == len(activities) and route.is_feasible():
        return route, []
    # A reload at either end or twice in a row (the search leaves one at times) is no reload: dropped (a re-plan
    # that kept one after its last stop failed validate_replan).
    activities = tidy
    while activities:
        route = pyvrp.Route(data, activities, vt)
        if route.is_feasible():
            return route, removed
        served = [oi for a in activities if (oi := _activity_order(inst, a)) is not None]
        served = [oi for oi in served if oi not in keep] or served
        if route.has_excess_load():
            # Take out the stop with the largest share of the capacity that is exceeded.
            exceeded = np.array(route.excess_load()) > 0
            capacity = np.array(data.vehicle_type(vt).capacity, dtype=np.float64)
            shares = [
                float(
                    np.max(
                        np.array(_load(problem.orders[oi], inst.dims), dtype=np.float64)[exceeded] / capacity[exceeded]
                    )
                )
                for oi in served
            ]
            victim = served[int(np.argmax(shares))]
        else:
            victim = _least_late_without(inst, route, activities, served)
        removed.append(victim)
        activities = _without(inst, activities, victim, vt)
    return None, removed


REPAIR_CANDIDATES = 80
"""Stops a repair tries taking out, at most, for each stop it takes out of a late route: the last ones up to the
first late stop (or to the end)."""


def _least_late_without(
    inst: _Instance, route: pyvrp.Route, activities: list[pyvrp.Activity], served: list[int]
) -> int:
    """The stop of a late (or too long, too far) route whose removal leaves it least late: least time warp, then
    least excess distance, then shortest. Candidates are the ``served`` stops up to the first one reached late,
    where a removal can help it, or all when only the end is (at most :data:`REPAIR_CANDIDATES` of the last of them).

    Taking out the first late stop instead (as before) cut a route that ran an hour behind from 113 stops to 12: each
    removal there saved a few minutes and left the next stop late. Taking out the stop whose removal saves most
    kept 91 of them.
    """
    first_late = next(
        (k for k, a in enumerate(list(route.schedule())[1:-1]) if a.time_warp > 0 and not a.is_depot), None
    )
    allowed = set(served)
    candidates = [
        oi
        for a in activities[: None if first_late is None else first_late + 1]
        if (oi := _activity_order(inst, a)) is not None and oi in allowed
    ][-REPAIR_CANDIDATES:] or served
    vt = route.vehicle_type()
    owners = _owners(inst, activities)
    where: dict[int, list[int]] = {}
    for k, owned_by in enumerate(owners):
        for oi in owned_by:
            where.setdefault(oi, []).append(k)
    last = len(activities) - 1
    best: tuple[tuple[int, int, int], int] | None = None
    for oi in dict.fromkeys(candidates):
        cut = where.get(oi, [])
        if any((k > 0 and not owners[k - 1]) or (k < last and not owners[k + 1]) for k in cut):
            # Next to a reload: it may separate nothing now.
            rest = _tidy_without(activities, owners, oi, vt in inst.lead_reload)
        else:  # the activities are tidy (the repair tidies them first), and stay so without these
            rest = [a for k0, k1 in zip([-1, *cut], [*cut, last + 1], strict=True) for a in activities[k0 + 1 : k1]]
        if not rest:
            return oi
        trial = pyvrp.Route(inst.data, rest, vt)
        key = (trial.time_warp(), trial.excess_distance(), trial.duration())
        if best is None or key < best[0]:
            best = (key, oi)
    assert best is not None
    return best[1]


@dataclass(frozen=True)
class _Timeline:
    stops: tuple[PlannedStop, ...]
    reloads: tuple[PlannedReload, ...]
    start_s: int
    end_s: int
    distance_m: int
    break_after: int | None
    break_start: int | None
    feasible: bool


def _timeline(
    problem: Problem,
    vehicle: Vehicle,
    visits: Sequence[_Visit],
    start_s: int,
    matrices: TravelMatrices,
    break_after: int | None,
    record: bool = True,
) -> _Timeline:
    """Times of a route leaving at ``start_s`` with the break (if any) after stop ``break_after``.

    Service starts at ``max(arrival, window start)``; a reload starts at ``max(arrival, depot opens)`` and
    lasts the depot's ``reload_s``. ``feasible`` says whether every stop starts within its window, every reload
    within its depot's hours, the break within its window and the route ends within the vehicle's limits.
    ``record=False`` leaves the stops and reloads out (empty): enough to compare break placements, which
    :func:`_schedule` tries after every stop, two departures each (making their records took 9 s of a 10 s
    default-scale re-plan).
    """
    p = matrices.profile(vehicle.speed_kmh)
    duration, distance = matrices.duration_s[p], matrices.distance_m[p]
    reload_depot, end_depot = problem.reload_depot(vehicle), problem.end_depot(vehicle)
    limits = _limits(vehicle, problem)
    prev = problem.depot_location(vehicle.start_depot_id)
    # A trip leaves the depot when its orders are ready there (Order.release_s).
    releases = _trip_releases(problem, visits)
    start_s = max(start_s, releases[0])
    t = start_s
    feasible = True
    break_start = None

    def take_break(t: int) -> int:
        nonlocal break_start, feasible
        break_start = max(t, vehicle.break_earliest_s)
        feasible &= break_start <= vehicle.break_latest_s
        return break_start + vehicle.break_s

    if break_after == 0:
        t = take_break(t)
    stops: list[PlannedStop] = []
    reloads: list[PlannedReload] = []
    n_stops = n_reloads = 0
    total_m = 0
    for visit in visits:
        leg_s, leg_m = int(duration[prev, visit.location]), int(distance[prev, visit.location])
        arrival = t + leg_s
        total_m += leg_m
        if visit.order is None:
            begin = max(arrival, reload_depot.opens_s)
            feasible &= begin <= reload_depot.closes_s
            t = max(begin + reload_depot.reload_s, releases[n_reloads + 1])
            if record:
                reloads.append(PlannedReload(n_stops, arrival, t, leg_m, leg_s))
            n_reloads += 1
        else:
            order = problem.orders[visit.order]
            begin = max(arrival, visit.tw_start)
            feasible &= begin <= visit.tw_end
            t = begin + order.service_s
            n_stops += 1
            if record:
                stops.append(
                    PlannedStop(
                        order_id=order.order_id,
                        sequence=n_stops,
                        arrival_s=arrival,
                        service_start_s=begin,
                        departure_s=t,
                        wait_s=begin - arrival,
                        leg_distance_m=leg_m,
                        leg_duration_s=leg_s,
                        in_preferred_window=order.in_preferred_window(begin),
                        trip=n_reloads + 1,
                    )
                )
            if break_after == n_stops:
                t = take_break(t)
        prev = visit.location
    end_loc = problem.depot_location(vehicle.end_depot_id)
    end = t + int(duration[prev, end_loc])
    total_m += int(distance[prev, end_loc])
    feasible &= end <= min(limits.hard_end, end_depot.closes_s) and end - start_s <= limits.max_duration
    if vehicle.max_distance_m is not None:
        feasible &= total_m <= vehicle.max_distance_m
    return _Timeline(tuple(stops), tuple(reloads), start_s, end, total_m, break_after, break_start, feasible)


def _trip_releases(problem: Problem, visits: Sequence[_Visit]) -> list[int]:
    """Per trip of a route (visits split at reloads), when its orders are all ready at the depot, seconds."""
    releases = [0]
    for visit in visits:
        if visit.order is None:
            releases.append(0)
        else:
            releases[-1] = max(releases[-1], problem.orders[visit.order].release_s)
    return releases


def _schedule(
    problem: Problem, vehicle: Vehicle, visits: Sequence[_Visit], start_s: int, matrices: TravelMatrices
) -> _Timeline | None:
    """The route's times with the driver's break placed at the best gap; ``None`` when no placement is valid.

    A route out during the break window (:meth:`~solver.model.Vehicle.needs_break`) takes the break after one
    of its stops (or at the depot before the first leg): of the placements that keep every window, the break
    window and the vehicle's limits, the shortest route (then the earliest return, then the earliest position).
    Leaving at the start of the shift instead of ``start_s`` is tried as well, since the break may use time the
    search left for waiting, and so is leaving after the break window closes, which needs no break.
    """
    plain = _timeline(problem, vehicle, visits, start_s, matrices, None)
    if not vehicle.needs_break(plain.start_s, plain.end_s):
        return plain if plain.feasible else None
    n_stops = sum(v.order is not None for v in visits)
    candidates = []  # (start, break after) of each placement tried, and its timeline without records
    # Leaving after the break window closes needs no break, when the stops' windows allow it.
    no_break = max(start_s, vehicle.break_latest_s + 1)
    late = _timeline(problem, vehicle, visits, no_break, matrices, None, record=False)
    if not vehicle.needs_break(late.start_s, late.end_s):
        candidates.append(((no_break, None), late))
    for start in sorted({start_s, _limits(vehicle, problem).early}):
        for k in range(n_stops + 1):
            timeline = _timeline(problem, vehicle, visits, start, matrices, k, record=False)
            if vehicle.needs_break(timeline.start_s, timeline.end_s):
                candidates.append(((start, k), timeline))
    feasible = [c for c in candidates if c[1].feasible]
    best = min(feasible, key=lambda c: (c[1].end_s - c[1].start_s, c[1].end_s), default=None)
    if best is None:
        return None
    (start, k), _ = best
    return _timeline(problem, vehicle, visits, start, matrices, k)


def _planned_route(problem: Problem, vehicle: Vehicle, timeline: _Timeline) -> PlannedRoute:
    by_id = {o.order_id: o for o in problem.orders}
    on_route = [by_id[s.order_id] for s in timeline.stops]
    deliveries = [o for o in on_route if o.order_type == "delivery" and o.shipment_id is None]
    duration_s = timeline.end_s - timeline.start_s
    end_depot = problem.end_depot(vehicle)
    overtime_s = max(0, timeline.end_s - min(vehicle.shift_end_s, end_depot.closes_s))
    return PlannedRoute(
        route_id=f"{problem.depot.depot_id}-{vehicle.vehicle_id}",
        vehicle_id=vehicle.vehicle_id,
        vehicle_type=vehicle.vehicle_type,
        stops=timeline.stops,
        start_s=timeline.start_s,
        end_s=timeline.end_s,
        distance_m=timeline.distance_m,
        duration_s=duration_s,
        weight_g=sum(o.weight_g for o in deliveries),
        volume_cm3=sum(o.volume_cm3 for o in deliveries),
        cost_eur=micro_to_eur(route_cost_micro(vehicle, timeline.distance_m, duration_s, overtime_s)),
        overtime_s=overtime_s,
        start_depot_id=problem.start_depot(vehicle).depot_id,
        end_depot_id=end_depot.depot_id,
        reloads=timeline.reloads,
        break_after_sequence=timeline.break_after,
        break_start_s=timeline.break_start,
    )


def _finish_route(
    inst: _Instance, problem: Problem, route: pyvrp.Route, matrices: TravelMatrices
) -> tuple[list[_Visit], int, _Timeline | None, list[int], list[int]]:
    """Repair a PyVRP route and place the break; while no break placement is valid, takes out the last stop that
    is not mandatory (the last stop when all are).

    Returns the visits, the vehicle type, the timeline (``None`` when nothing is left), the orders the repair took
    out and those taken out to make room for the break.
    """
    vt = route.vehicle_type()
    vehicle = inst.groups[vt].vehicles[0]
    repaired, removed = _repair(inst, problem, route)
    if repaired is None:
        return [], vt, None, removed, []
    activities = _activities(inst, repaired)
    start_s = int(repaired.start_time())
    for_break: list[int] = []
    while activities:
        visits = _visits(inst, problem, pyvrp.Route(inst.data, activities, vt))
        timeline = _schedule(problem, vehicle, visits, start_s, matrices)
        if timeline is not None:
            return visits, vt, timeline, removed, for_break
        served = [v.order for v in visits if v.order is not None]
        optional = [i for i in served if problem.orders[i].priority != "mandatory"]
        victim = (optional or served)[-1]
        for_break.append(victim)
        activities = _without(inst, activities, victim, vt)
    return [], vt, None, removed, for_break


def _stops_and_budget(config: SolveConfig, n_clients: int, time_budget_s: float) -> _RecordingStop:
    no_improvement = config.no_improvement_iters or default_no_improvement_iters(n_clients)
    max_iters = config.max_iters or default_max_iters(n_clients)
    return _RecordingStop(no_improvement, max_iters, time_budget_s)


def _search_params(
    config: SolveConfig, max_penalty: float, pool: recombination.RoutePool | None = None
) -> pyvrp.SolveParams:
    ils = pyvrp.IteratedLocalSearchParams() if pool is None else pyvrp.IteratedLocalSearchParams(callbacks=pool)
    return pyvrp.SolveParams(
        ils=ils,
        penalty=pyvrp.PenaltyParams(solutions_between_updates=config.penalty_update_iters, max_penalty=max_penalty),
    )


@dataclass(frozen=True)
class _SearchOutcome:
    """The best solution of one seed's search, as plain data (it crosses process boundaries)."""

    seed: int
    routes: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]  # (vehicle type, ((activity type, idx), ...))
    cost: float
    feasible: bool
    iterations: int
    stopped_by: str
    pool: tuple[tuple[recombination.RouteKey, int], ...] = ()  # feasible routes met on the way, and their costs


def _outcome(
    seed: int, result: pyvrp.Result, iterations: int, stopped_by: str, pool: recombination.RoutePool | None = None
) -> _SearchOutcome:
    routes = tuple(recombination.route_key(r) for r in result.best.routes())
    met = () if pool is None else tuple(pool.routes.items())
    return _SearchOutcome(seed, routes, float(result.cost()), result.best.is_feasible(), iterations, stopped_by, met)


def _initial_routes(
    inst: _Instance,
    problem: Problem,
    initial_routes: Mapping[str, Sequence[str | None]] | None,
    deadline: float = float("inf"),
) -> tuple[tuple[int, tuple[tuple[int, int], ...]], ...] | None:
    """A warm start in the form of :attr:`_SearchOutcome.routes`, made feasible, with the orders it lacks added.

    Orders that are not clients of the search (left out by the pre-solve, shipments) and reloads of a vehicle
    that cannot reload are skipped. Each given route is repaired the way the search's best one is (stops taken
    out until PyVRP calls it feasible, :func:`_repair`); the search's other orders are then inserted one at a
    time where they add least cost, keeping every route feasible (:func:`_insert_cheaply`), and what still has
    no place goes on the vehicles the routes leave unused, in slices by bearing from the depot, each repaired.
    The start is so feasible unless a required order found no place; PyVRP's search replaces its best solution
    only by a feasible one of lower cost, so a search that starts here never ends worse than its start. (A start
    that was thrown away when infeasible left a depot of 600 remaining orders to a cold 10 s search that ended
    infeasible and dropped hundreds of them; a start without the missing orders kept a broken-down van's 32
    parcels out of a 50-order re-plan, because PyVRP inserts an unplanned order only next to a planned one.)
    ``None`` when nothing is left. The insertions stop at ``deadline`` (``time.monotonic()``), but not before
    :data:`INSERTION_MIN_S`, and after :data:`INSERTION_BUDGET_S` at most. A required order with no feasible place
    left then goes where it costs fewest other stops (:func:`_insert_required`).
    """
    if not initial_routes:
        return None
    client_of: dict[int, int] = {}
    for c, oi in enumerate(inst.client_orders):
        client_of.setdefault(oi, c)
    position = {o.order_id: i for i, o in enumerate(problem.orders)}
    type_of = {v.vehicle_id: vt for vt, g in enumerate(inst.groups) for v in g.vehicles}
    used: Counter[int] = Counter()
    routes: list[tuple[int, list[pyvrp.Activity]]] = []
    # An order is started once, on the first route that lists it (a re-planned day may list a failed stop on one
    # vehicle and its retry on another; PyVRP refused the start: "Client 1 is visited more than once").
    seen: set[int] = set()
    for vehicle_id in sorted(initial_routes):
        vt = type_of.get(vehicle_id)
        if vt is None or used[vt] >= inst.data.vehicle_type(vt).num_available:
            continue
        reload_depots = inst.data.vehicle_type(vt).reload_depots
        acts: list[pyvrp.Activity] = []
        for order_id in initial_routes[vehicle_id]:
            if order_id is None:
                if reload_depots:
                    acts.append(pyvrp.Activity(pyvrp.ActivityType.DEPOT, reload_depots[0]))
            elif position.get(order_id) in client_of and position[order_id] not in seen:
                seen.add(position[order_id])
                acts.append(pyvrp.Activity(pyvrp.ActivityType.CLIENT, client_of[position[order_id]]))
        acts = _tidy(inst, acts, vt)
        if not acts:
            continue
        try:
            repaired, _ = _repair(inst, problem, pyvrp.Route(inst.data, acts, vt))
        except (ValueError, RuntimeError, IndexError):
            continue
        if repaired is not None:
            used[vt] += 1
            routes.append((vt, _activities(inst, repaired)))
    if not routes:
        return None
    now = time.monotonic()
    _insert_cheaply(inst, problem, routes, min(max(deadline, now + INSERTION_MIN_S), now + INSERTION_BUDGET_S))
    _insert_required(inst, problem, routes)
    packed = [(vt, tuple((int(a.type.value), int(a.idx)) for a in acts)) for vt, acts in routes if acts]
    spread = []
    for vt, acts in _spread_unplanned(inst, packed):
        route = pyvrp.Route(inst.data, [pyvrp.Activity(pyvrp.ActivityType(t), idx) for t, idx in acts], vt)
        repaired, _ = _repair(inst, problem, route)
        if repaired is not None:
            spread.append((vt, tuple((int(a.type.value), int(a.idx)) for a in _activities(inst, repaired))))
    return tuple(packed) + tuple(spread)


def _route_cost(route: pyvrp.Route) -> int:
    """What a route costs the search (move penalties included, they are in its distances); 0 when empty."""
    if route.num_clients() == 0 and route.num_shipments() == 0:
        return 0
    return route.distance_cost() + route.duration_cost() + route.fixed_vehicle_cost()


def _required(data: pyvrp.ProblemData, c: int) -> bool:
    """Whether the search must serve client ``c``: it is required, or a member of a required group (an order with
    several windows)."""
    client = data.client(c)
    return client.required or (client.group is not None and data.group(client.group).required)


def _insert_cheaply(
    inst: _Instance, problem: Problem, routes: list[tuple[int, list[pyvrp.Activity]]], deadline: float
) -> None:
    """Insert the search's orders that ``routes`` lack, in order of window end, each where it adds least cost
    (less its prize) while every route stays feasible, into the routes in place; an order no feasible place is
    worth its prize for stays out. Only places next to the order's nearest planned stops, last on each route, a trip
    of its own at the end of each route that may reload, and a first stop on each vehicle type's unused vehicles, are
    tried; stops at ``deadline`` (``time.monotonic()``)."""
    data = inst.data
    clients = data.clients()
    members: dict[int, list[int]] = {}
    for c, oi in enumerate(inst.client_orders):
        members.setdefault(oi, []).append(c)
    planned = {inst.client_orders[a.idx] for _, acts in routes for a in acts if a.type == pyvrp.ActivityType.CLIENT}
    missing = [oi for oi in members if oi not in planned]
    if not missing:
        return
    missing.sort(key=lambda oi: (max(end for _, end in _order_windows(problem.orders[oi])), oi))
    distance = data.distance_matrix(0)
    costs = [_route_cost(pyvrp.Route(data, acts, vt)) for vt, acts in routes]
    reloads = [data.vehicle_type(vt).reload_depots for vt in range(data.num_vehicle_types)]
    used = Counter(vt for vt, _ in routes)
    loaded_on = problem.on_board_vehicle()
    for oi in missing:
        if time.monotonic() > deadline:
            return
        location = clients[members[oi][0]].location
        near: list[tuple[int, int]] = []  # (route, activity position) of the planned stops nearest the order
        stops = [
            (int(distance[location, clients[a.idx].location]), k, p)
            for k, (_, acts) in enumerate(routes)
            for p, a in enumerate(acts)
            if a.type == pyvrp.ActivityType.CLIENT
        ]
        stops.sort()
        near = [(k, p) for _, k, p in stops[:INSERTION_NEIGHBOURS]]
        candidates = {(k, q) for k, p in near for q in (p, p + 1)}
        # And last on each route: where a route ends early in its shift (the search cut short, stops of a slow
        # day taken out by the repair), its spare time is there, often on a van none of the order's nearest
        # stops are on.
        candidates |= {(k, len(acts)) for k, (_, acts) in enumerate(routes)}
        van = loaded_on.get(problem.orders[oi].order_id)
        if van is not None:
            # A parcel on board goes on its own van only: every place on its route. (Its nearest planned stops were
            # often all on other vans, so it found no place and stayed out: at default scale a re-plan left 85
            # parcels on board of two late vans undelivered while one of them waited 2 h for a new order.)
            for k, (vt, acts) in enumerate(routes):
                if inst.groups[vt].vehicles and inst.groups[vt].vehicles[0].vehicle_id == van:
                    candidates |= {(k, q) for q in range(len(acts) + 1)}
        free = [
            vt
            for vt in range(data.num_vehicle_types)
            if used[vt] < data.vehicle_type(vt).num_available and inst.groups[vt].vehicles
        ]
        best: tuple[int, int, int, list[pyvrp.Activity], int] | None = None  # (score, route, cost, acts, type)
        for c in members[oi]:
            prize = clients[c].prize
            activity = pyvrp.Activity(pyvrp.ActivityType.CLIENT, c)
            tries = [(k, routes[k][0], routes[k][1][:q] + [activity] + routes[k][1][q:]) for k, q in candidates]
            # A trip of its own at the end of a route, after a reload: the only place on a vehicle on the road for an
            # order waiting at the depot (a new one, a broken-down van's parcel) when no later trip is near it.
            tries += [
                (k, vt, [*acts, pyvrp.Activity(pyvrp.ActivityType.DEPOT, reloads[vt][0]), activity])
                for k, (vt, acts) in enumerate(routes)
                if reloads[vt]
            ]
            # Or first, for a vehicle on the road that may head home first (Vehicle.reload_first): the order's window
            # may close before the van's current trip ends (a new order for the next hour, the van out with a
            # parcel for the afternoon). After the reload that opens its route, or with a reload of its own.
            for k, (vt, acts) in enumerate(routes):
                if reloads[vt] and vt in inst.lead_reload:
                    if acts and acts[0].type == pyvrp.ActivityType.DEPOT:
                        tries.append((k, vt, [acts[0], activity, *acts[1:]]))
                    else:
                        reload = pyvrp.Activity(pyvrp.ActivityType.DEPOT, reloads[vt][0])
                        tries.append((k, vt, [reload, activity, *acts]))
            tries += [(-1, vt, [activity]) for vt in free]
            for k, vt, acts in tries:
                try:
                    route = pyvrp.Route(data, acts, vt)
                except (ValueError, RuntimeError, IndexError):  # more trips than the vehicle may make
                    continue
                if not route.is_feasible():
                    continue
                if _skill_or_trip_misfits(inst, problem, inst.groups[vt].vehicles[0], acts):
                    continue
                cost = _route_cost(route)
                score = cost - (costs[k] if k >= 0 else 0) - prize
                if (score < 0 or _required(data, c)) and (best is None or score < best[0]):
                    best = (score, k, cost, acts, vt)
        if best is None:
            continue
        _, k, cost, acts, vt = best
        if k < 0:
            routes.append((vt, acts))
            costs.append(cost)
            used[vt] += 1
        else:
            routes[k] = (vt, acts)
            costs[k] = cost


def _insert_required(inst: _Instance, problem: Problem, routes: list[tuple[int, list[pyvrp.Activity]]]) -> None:
    """Put each required order (mandatory, or one only some vehicles can serve) that ``routes`` lack where it costs
    fewest other stops, into the routes in place: on its own van when it is on board, else on any route, at the
    place that leaves the route least late (then least overloaded, then cheapest), of which the
    :data:`REQUIRED_TRIES` best are repaired without taking it out. The orders the repair takes out are left to the
    search.

    A start that lacks a required order is no solution to PyVRP: the search then keeps no feasible best at all, and
    what it ends with is repaired stop by stop. A rainy day's re-plans of D-SCHAAN ended so from 12:00 to 16:30, for
    one refrigerated order at the depot that only the refrigerated van, on the road, could take, after a reload
    in mid-route: a place the cheap insertion does not try.
    """
    data = inst.data
    members: dict[int, list[int]] = {}
    for c, oi in enumerate(inst.client_orders):
        members.setdefault(oi, []).append(c)
    planned = {inst.client_orders[a.idx] for _, acts in routes for a in acts if a.type == pyvrp.ActivityType.CLIENT}
    loaded_on = problem.on_board_vehicle()
    for oi, cs in members.items():
        if oi in planned or not any(_required(data, c) for c in cs):
            continue
        van = loaded_on.get(problem.orders[oi].order_id)
        tries: list[tuple[tuple[int, int, int], int, int, list[pyvrp.Activity]]] = []
        for k, (vt, acts) in enumerate(routes):
            vehicle = inst.groups[vt].vehicles[0]
            if van is not None and vehicle.vehicle_id != van:
                continue
            reloads = data.vehicle_type(vt).reload_depots
            for c in cs:
                # At every place, and, on a vehicle that may reload, after a reload there: an order waiting at the
                # depot rides on a van on the road only from its next reload on.
                visit = [pyvrp.Activity(pyvrp.ActivityType.CLIENT, c)]
                inserts = [visit]
                if reloads:
                    inserts.append([pyvrp.Activity(pyvrp.ActivityType.DEPOT, reloads[0]), *visit])
                for insert, q in itertools.product(inserts, range(len(acts) + 1)):
                    trial = _tidy(inst, acts[:q] + insert + acts[q:], vt)
                    if oi in _skill_or_trip_misfits(inst, problem, vehicle, trial):
                        continue
                    try:
                        route = pyvrp.Route(data, trial, vt)
                    except (ValueError, RuntimeError, IndexError):
                        continue
                    key = (route.time_warp(), sum(route.excess_load()), _route_cost(route))
                    tries.append((key, k, vt, trial))
        tries.sort(key=lambda t: t[0])
        best: tuple[tuple[int, int], int, int, pyvrp.Route] | None = None
        for _, k, vt, trial in tries[:REQUIRED_TRIES]:
            repaired, removed = _repair(inst, problem, pyvrp.Route(data, trial, vt), keep=frozenset({oi}))
            if repaired is None or oi in removed:
                continue
            key = (len(removed), _route_cost(repaired))
            if best is None or key < best[0]:
                best = (key, k, vt, repaired)
        if best is not None:
            _, k, vt, repaired = best
            routes[k] = (vt, _activities(inst, repaired))
            planned = {
                inst.client_orders[a.idx] for _, acts in routes for a in acts if a.type == pyvrp.ActivityType.CLIENT
            }


def _spread_unplanned(
    inst: _Instance, routes: Sequence[tuple[int, tuple[tuple[int, int], ...]]]
) -> tuple[tuple[int, tuple[tuple[int, int], ...]], ...]:
    """Routes for the unused vehicles holding the orders ``routes`` leave out, one slice by bearing each."""
    data = inst.data
    planned_orders = {
        inst.client_orders[idx] for _, acts in routes for t, idx in acts if t == pyvrp.ActivityType.CLIENT.value
    }
    missing: list[int] = []
    seen: set[int] = set()
    for c, oi in enumerate(inst.client_orders):
        if oi not in planned_orders and oi not in seen:
            seen.add(oi)
            missing.append(c)
    used = Counter(vt for vt, _ in routes)
    free = [vt for vt in range(data.num_vehicle_types) for _ in range(data.vehicle_type(vt).num_available - used[vt])]
    if not missing or not free:
        return ()
    depot, clients = data.location(0), data.clients()

    def bearing(c: int) -> float:
        where = data.location(clients[c].location)
        return float(np.arctan2(where.y - depot.y, where.x - depot.x))

    missing.sort(key=lambda c: (bearing(c), c))
    slices = np.array_split(np.array(missing, dtype=np.int64), len(free))
    return tuple(
        (vt, tuple((pyvrp.ActivityType.CLIENT.value, int(c)) for c in part))
        for vt, part in zip(free, slices, strict=True)
        if len(part)
    )


def _search_seed(
    data: pyvrp.ProblemData,
    config: SolveConfig,
    n_clients: int,
    seed: int,
    deadline: float,
    initial: tuple[tuple[int, tuple[tuple[int, int], ...]], ...] | None = None,
) -> _SearchOutcome:
    """One seed's search until its stopping rule or ``deadline`` (``time.monotonic()``), with the rescue run.

    When the search ends infeasible with budget left, it runs again with the rescue penalty cap. ``initial``
    (routes as in :attr:`_SearchOutcome.routes`) warm-starts both.
    """
    config = replace(config, seed=seed)
    start = None if initial is None else recombination.solution_of(data, initial)
    pool = recombination.RoutePool() if config.recombine and recombination.applies(data) else None
    budget = max(0.0, deadline - time.monotonic())
    stop = _stops_and_budget(config, n_clients, budget)
    result = pyvrp.solve(
        data,
        stop,
        seed=seed,
        collect_stats=False,
        display=False,
        params=_search_params(config, MAX_PENALTY, pool),
        initial_solution=start,
    )
    iterations, stopped_by = result.num_iterations, stop.stopped_by
    remaining = deadline - time.monotonic()
    if not result.best.is_feasible() and remaining > 0:
        stop = _stops_and_budget(config, n_clients, remaining)
        rescue = pyvrp.solve(
            data,
            stop,
            seed=seed,
            collect_stats=False,
            display=False,
            params=_search_params(config, RESCUE_MAX_PENALTY, pool),
            initial_solution=start,
        )
        iterations += rescue.num_iterations
        stopped_by = stop.stopped_by
        if rescue.best.is_feasible() or rescue.cost() < result.cost():
            result = rescue
    if pool is not None and result.best.is_feasible():
        pool.add(result.best)
    return _outcome(seed, result, iterations, stopped_by, pool)


class KeptPool:
    """A pool of ``spawn`` worker processes kept between calls: starting a worker costs seconds (a Python that
    imports the solver), so it is paid once per process, not at every solve. Made again when the size changes or
    a worker died."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._workers = 0
        self._lock = threading.Lock()

    def get(self, workers: int) -> ProcessPoolExecutor:
        """The pool with ``workers`` processes (at least 1)."""
        if workers < 1:
            raise ValueError(f"processes must be at least 1, got {workers}")
        with self._lock:
            if self._pool is not None and (workers != self._workers or getattr(self._pool, "_broken", False)):
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
                self._workers = workers
            return self._pool

    def drop(self, wait: bool = False) -> None:
        """Shut the pool down (its queued work cancelled); the next :meth:`get` starts a new one."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool, self._workers = None, 0


_SEED_POOL = KeptPool()
"""The worker processes for extra seeds, kept for the next solve."""


def _seed_pool(workers: int) -> ProcessPoolExecutor:
    return _SEED_POOL.get(workers)


def _drop_seed_pool() -> None:
    _SEED_POOL.drop()


def _search(
    inst: _Instance,
    config: SolveConfig,
    n_clients: int,
    deadline: float,
    initial: tuple[tuple[int, tuple[tuple[int, int], ...]], ...] | None = None,
) -> tuple[pyvrp.Solution, _SearchOutcome]:
    """Search with ``config.parallel_seeds`` seeds (the extra ones in worker processes) and keep the best.

    Best: feasible first, then the lowest cost, then the lowest seed, so the choice is deterministic whenever
    the searches are. A worker that cannot finish by the deadline (process start counts) is not waited for.
    With ``config.recombine``, the searches end :data:`RECOMBINE_SHARE` of the budget early and the rest goes
    to recombining the routes they met (:func:`solver.recombine.recombine`).
    """
    seeds = [config.seed + k for k in range(config.parallel_seeds)]
    outcomes: list[_SearchOutcome] = []
    recombine = config.recombine and recombination.applies(inst.data)
    reserve = RECOMBINE_SHARE * max(0.0, deadline - time.monotonic()) if recombine else 0.0
    recombine = recombine and reserve >= RECOMBINE_MIN_S
    search_deadline = deadline - reserve if recombine else deadline
    if len(seeds) == 1:
        outcomes.append(_search_seed(inst.data, config, n_clients, seeds[0], search_deadline, initial))
    else:
        pool = _seed_pool(len(seeds) - 1)
        futures = [
            pool.submit(_search_seed, inst.data, config, n_clients, s, search_deadline, initial) for s in seeds[1:]
        ]
        outcomes.append(_search_seed(inst.data, config, n_clients, seeds[0], search_deadline, initial))
        for future in futures:
            try:
                outcomes.append(future.result(timeout=max(0.0, search_deadline - time.monotonic()) + 0.05))
            except TimeoutError:
                # Late (the worker was still starting): the other seeds' results stand. The worker stops at
                # the deadline by itself, so the pool stays usable.
                future.cancel()
            except BrokenProcessPool:
                _drop_seed_pool()
    best = min(outcomes, key=lambda o: (not o.feasible, o.cost, o.seed))
    if recombine and best.feasible:
        # At most the reserve: a search that its iteration rules ended early leaves the rest of the budget unused.
        limit = min(reserve, deadline - time.monotonic())
        better = recombination.recombine(inst.data, best.routes, [dict(o.pool) for o in outcomes], limit, config.seed)
        if better is not None:
            best = replace(best, routes=better[0], cost=better[1])
    total = _SearchOutcome(
        best.seed, best.routes, best.cost, best.feasible, sum(o.iterations for o in outcomes), best.stopped_by
    )
    return recombination.solution_of(inst.data, best.routes), total


def _objective_micro(
    problem: Problem, routes: Sequence[PlannedRoute], unassigned: Sequence[Unassigned], config: SolveConfig
) -> int:
    by_vehicle = {v.vehicle_id: v for v in problem.vehicles}
    by_order = {o.order_id: o for o in problem.orders}
    cost = sum(route_cost_micro(by_vehicle[r.vehicle_id], r.distance_m, r.duration_s, r.overtime_s) for r in routes)
    return cost + sum(unserved_penalty_micro(by_order[u.order_id], config) for u in unassigned)


def solve(
    problem: Problem,
    config: SolveConfig | None = None,
    travel_model: TravelModel | None = None,
    initial_routes: Mapping[str, Sequence[str | None]] | None = None,
) -> Plan:
    """Plan one depot's routes for one service date.

    Parameters
    ----------
    problem
        The depot, its orders and vehicles (and other depots its vehicles start or end at).
    config
        Time budget (s), seed, parallel seeds, circuity, unserved penalties (EUR) and stopping rule; default
        ``SolveConfig()``.
    travel_model
        Distances and durations; default :class:`~solver.travel.GreatCircleTravelModel` with
        ``config.circuity``. With a :class:`~solver.timing.TimeDependentTravelModel` the search uses its
        :meth:`~solver.timing.TimeDependentTravelModel.banded_matrices` (the depot left at the earliest shift
        start, each order in the middle of its window within the fleet's day) and every route is re-timed
        exactly with :func:`~solver.timing.retime_route`: stops that then start after their window carry
        ``late_s`` (at risk), routes that end after the shift carry ``overtime_s``.
    initial_routes
        A warm start: vehicle id -> order ids in visiting order (``None`` for a reload). Orders the pre-solve
        leaves out are skipped, each route is made feasible by taking stops out, and the orders it lacks are
        inserted where they cost least (:func:`_initial_routes`); a search from a feasible start never ends
        worse than the start. Default ``None``: a cold start.

    Returns
    -------
    Plan
        Routes on concrete vehicles (each at most once) and every other order unassigned with a reason code.
        The plan always passes :func:`solver.validate.validate` with the same travel model. The same problem,
        config and travel model give the same plan unless ``stats.stopped_by == "time_budget"``. The call
        returns within ``config.time_budget_s`` plus the time to build the travel matrices and to explain the
        unassigned orders.
    """
    return solve_with_start(problem, config, travel_model, initial_routes)[0]


def solve_with_start(
    problem: Problem,
    config: SolveConfig | None = None,
    travel_model: TravelModel | None = None,
    initial_routes: Mapping[str, Sequence[str | None]] | None = None,
) -> tuple[Plan, Plan | None]:
    """:func:`solve`, and the warm start it searched from as a plan of its own.

    Parameters are those of :func:`solve`.

    Returns
    -------
    tuple of (Plan, Plan or None)
        The search's plan (what :func:`solve` returns) and the warm start finished the same way without any search
        (``initial_routes`` made feasible, the missing orders inserted cheaply; ``stats.stopped_by ==
        "warm_start"``, its left-out orders ``SEARCH_LIMIT`` or as diagnosed); ``None`` without a usable warm
        start. Both pass :func:`solver.validate.validate` with the same travel model.
    """
    started = time.perf_counter()
    deadline = time.monotonic() + (config.time_budget_s if config else SolveConfig().time_budget_s)
    config = config or SolveConfig()
    travel_model = travel_model or GreatCircleTravelModel(circuity=config.circuity)
    orders, vehicles = problem.orders, problem.vehicles

    timed = isinstance(travel_model, TimeDependentTravelModel)
    matrices = None
    if vehicles and orders:
        lat, lon = (np.array(a, dtype=np.float64) for a in problem.location_coordinates())
        speeds = _sorted_speeds(vehicles)
        matrices = travel_model.matrices(lat, lon, speeds)
    servable, unassigned = presolve(problem, matrices, config.max_depot_distance_m)

    routes: list[PlannedRoute] = []
    build_s = search_s = 0.0
    iterations = 0
    feasible = True
    stopped_by = "nothing_to_solve"
    start_plan = None
    if servable:
        search_matrices = matrices
        if timed:
            search_matrices = travel_model.banded_matrices(lat, lon, speeds, _search_depart_s(problem))
        inst = _build_instance(problem, servable, matrices, config, search_matrices)
        build_s = time.perf_counter() - started
        search_started = time.perf_counter()
        n_clients = len(servable)
        initial = _initial_routes(inst, problem, initial_routes, deadline - FINISH_RESERVE_S)
        best, outcome = _search(inst, config, n_clients, deadline - FINISH_RESERVE_S, initial)
        iterations = outcome.iterations
        search_s = time.perf_counter() - search_started
        stopped_by = outcome.stopped_by
        feasible = outcome.feasible
        finish = (problem, inst, search_matrices, matrices, travel_model, config, servable)
        routes, left_out = _finished(*finish, best, feasible, stopped_by)
        if initial is not None:
            start = recombination.solution_of(inst.data, initial)
            start_routes, start_left_out = _finished(*finish, start, start.is_feasible(), "warm_start")
            start_plan = _plan(
                problem,
                start_routes,
                [*unassigned, *start_left_out],
                config,
                travel_model,
                feasible=start.is_feasible(),
                stopped_by="warm_start",
                runtime_s=time.perf_counter() - started,
                build_s=build_s,
            )
        unassigned.extend(left_out)

    plan = _plan(
        problem,
        routes,
        unassigned,
        config,
        travel_model,
        feasible=feasible,
        stopped_by=stopped_by,
        runtime_s=time.perf_counter() - started,
        iterations=iterations,
        search_s=search_s,
        build_s=build_s,
    )
    return plan, start_plan


def _plan(
    problem: Problem,
    routes: list[PlannedRoute],
    unassigned: list[Unassigned],
    config: SolveConfig,
    travel_model: TravelModel,
    **stats,
) -> Plan:
    """The plan of routes and unassigned orders (sorted as the problem's orders), with its statistics."""
    position = {o.order_id: i for i, o in enumerate(problem.orders)}
    unassigned = sorted(unassigned, key=lambda u: position[u.order_id])
    stats = SolveStats(
        objective=micro_to_eur(_objective_micro(problem, routes, unassigned, config)),
        n_orders=len(problem.orders),
        n_vehicles=len(problem.vehicles),
        travel_model_version=getattr(travel_model, "version", ""),
        **{"iterations": 0, "search_s": 0.0, **stats},
    )
    return Plan(depot_id=problem.depot.depot_id, routes=tuple(routes), unassigned=tuple(unassigned), stats=stats)


def _finished(
    problem: Problem,
    inst: _Instance,
    search_matrices: TravelMatrices,
    matrices: TravelMatrices,
    travel_model: TravelModel,
    config: SolveConfig,
    servable: Sequence[int],
    best: pyvrp.Solution,
    feasible: bool,
    stopped_by: str,
) -> tuple[list[PlannedRoute], list[Unassigned]]:
    """A solution of the search as routes on concrete vehicles (repaired, breaks placed, re-timed) and its
    servable orders left out, explained."""
    orders = problem.orders
    timed = isinstance(travel_model, TimeDependentTravelModel)
    # PyVRP's solutions visit each client group and shipment at most once, so no order is served twice.
    by_type: dict[int, list[tuple[list[_Visit], _Timeline]]] = {}
    repaired_out: set[str] = set()
    out_for_break: dict[str, str] = {}
    for route in best.routes():
        visits, vt, timeline, removed, for_break = _finish_route(inst, problem, route, search_matrices)
        repaired_out.update(orders[i].order_id for i in removed)
        vehicle_type = inst.groups[vt].vehicles[0].vehicle_type
        out_for_break.update((orders[i].order_id, vehicle_type) for i in for_break)
        if timeline is not None:
            by_type.setdefault(vt, []).append((visits, timeline))
    routes: list[PlannedRoute] = []
    for vt, type_routes in sorted(by_type.items()):
        # Identical vehicles: hand them out in id order to routes in departure order.
        type_routes.sort(key=lambda r: (r[1].start_s, [v.location for v in r[0]]))
        for (_, timeline), vehicle in zip(type_routes, inst.groups[vt].vehicles, strict=False):
            planned_route = _planned_route(problem, vehicle, timeline)
            routes.append(retime_route(planned_route, problem, travel_model) if timed else planned_route)
    routes.sort(key=lambda r: r.vehicle_id)

    planned = {s.order_id for r in routes for s in r.stops}
    left_out = [i for i in servable if orders[i].order_id not in planned]
    position = {o.order_id: i for i, o in enumerate(orders)}
    unassigned: list[Unassigned] = []
    search_cut_short = stopped_by in ("max_iters", "time_budget", "warm_start")
    for u in diagnose_left_out(problem, left_out, routes, matrices, config=config):
        if u.order_id in out_for_break and u.reason_code == "NOT_WORTH_SERVING":
            # The search had it on a route where the driver's break then fitted nowhere.
            u = Unassigned(
                u.order_id,
                "FLEET_TIME",
                (
                    f"the {out_for_break[u.order_id]} route it was planned on had no gap for the driver's break "
                    "within its window with this stop on it"
                ),
            )
        elif u.reason_code == "NOT_WORTH_SERVING" and (
            u.order_id in repaired_out
            or not feasible
            or search_cut_short
            or orders[position[u.order_id]].priority == "mandatory"  # the search must serve it: it ran out
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
    return routes, unassigned


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
    same config (and seed), so the plans equal those of sequential :func:`solve` calls. While depots run in
    parallel, each searches with one seed (the cores are busy): ``config.parallel_seeds`` applies when a single
    problem is solved.

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
    config = replace(config or SolveConfig(), parallel_seeds=1)
    return map_in_processes(_solve_one, problems, repeat(config), repeat(travel_model), processes=processes)


def map_in_processes(fn, items: Sequence, *more, processes: int) -> list:
    """``[fn(item, *rest) ...]`` over ``items`` (and the iterables ``more``) in at most ``processes`` ``spawn``
    worker processes, one per depot at most; results in the order of ``items``. ``fn`` must be a module-level
    function and its arguments picklable."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(processes, len(items)), mp_context=context) as pool:
        return list(pool.map(fn, items, *more))
