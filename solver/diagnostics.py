"""Why an order is not in the plan.

Pre-solve checks (:func:`presolve`) remove orders no vehicle could ever serve, so the search only sees orders
it can plan. Post-solve checks (:func:`diagnose_left_out`) explain the orders the search left out, given the
routes it built. :data:`REASON_CODES` is the one list of reason codes, for the app and the docs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from solver.model import Order, PlannedRoute, Problem, Unassigned, Vehicle
from solver.travel import TravelMatrices, haversine_m

REASON_CODES: dict[str, str] = {
    "OUTSIDE_AREA": (
        "The address lies outside the depot's delivery area (farther from the depot in a straight line than "
        "the planning run allows); often a mistyped address or wrong coordinates."
    ),
    "NO_VEHICLE": "The depot has no vehicles available on the service date.",
    "INVALID_WINDOW": "The order's time window ends before it starts.",
    "NO_SKILLED_VEHICLE": "No vehicle at the depot has all the skills the order needs.",
    "TOO_HEAVY": "The order weighs more than the largest suitable vehicle carries.",
    "TOO_BULKY": "The order is larger than the largest suitable vehicle holds.",
    "WINDOW_UNREACHABLE": (
        "No suitable vehicle can leave the depot, serve the order within its window and return within its "
        "shift and the depot's opening hours."
    ),
    "FLEET_CAPACITY": "Every suitable vehicle is too full to take the order.",
    "FLEET_TIME": "Suitable vehicles have room, but none can fit the stop into its route in time.",
    "NOT_WORTH_SERVING": (
        "A route could take the order, but the solver left it out: serving it costs more than the unserved "
        "penalty, or the search stopped before it found a place for it."
    ),
    "SEARCH_LIMIT": (
        "The search stopped (iteration limit or time budget) before it found a feasible route for the order, "
        "although a route has room and time for it; a longer time budget may plan it."
    ),
}
"""Reason code -> description of every code :class:`~solver.model.Unassigned` can carry."""

PRESOLVE_CODES = (
    "OUTSIDE_AREA",
    "NO_VEHICLE",
    "INVALID_WINDOW",
    "NO_SKILLED_VEHICLE",
    "TOO_HEAVY",
    "TOO_BULKY",
    "WINDOW_UNREACHABLE",
)
"""Codes given before the search, in the order they are checked."""


def clock(seconds: int) -> str:
    """Format seconds since local midnight as ``HH:MM`` (``+1d`` past midnight)."""
    days, rest = divmod(int(seconds), 86_400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return text + (f" (+{days}d)" if days else "")


def _kg(grams: int) -> str:
    return f"{round(grams / 1000, 1):g} kg"


def _litres(cm3: int) -> str:
    return f"{round(cm3 / 1000, 1):g} L"


def can_carry_skills(vehicle: Vehicle, order: Order) -> bool:
    """Whether ``vehicle`` has every skill ``order`` requires."""
    return order.required_skills <= vehicle.skills


def working_window(vehicle: Vehicle, problem: Problem) -> tuple[int, int]:
    """Earliest depot departure and latest depot return of a vehicle, seconds since local midnight.

    The shift intersected with the depot's opening hours; empty when the first exceeds the second.
    """
    return (
        max(vehicle.shift_start_s, problem.depot.opens_s),
        min(vehicle.shift_end_s, problem.depot.closes_s),
    )


def _unreachable_reason(order: Order, earliest_start_s: int | None, back_by_s: int) -> str:
    window = f"{clock(order.tw_start_s)}-{clock(order.tw_end_s)}"
    if earliest_start_s is None:
        return "no suitable vehicle has a shift that overlaps the depot's opening hours"
    if earliest_start_s >= back_by_s:
        return (
            f"window {window} starts after every suitable vehicle's day ends: the last must be back at the depot "
            f"by {clock(back_by_s)} (end of shift or depot closing)"
        )
    if earliest_start_s > order.tw_end_s:
        return (
            f"window {window} cannot be reached: the earliest a suitable vehicle can be there is "
            f"{clock(earliest_start_s)}"
        )
    return (
        f"serving it within its window {window} leaves no suitable vehicle time to get back to the depot "
        f"by {clock(back_by_s)} (end of shift or depot closing)"
    )


def outside_area(problem: Problem, max_depot_distance_m: int | None) -> dict[int, float]:
    """Orders farther from the depot than ``max_depot_distance_m`` (great-circle metres, before circuity).

    Returns
    -------
    dict of int to float
        Index into ``problem.orders`` -> great-circle distance to the depot in metres; empty when
        ``max_depot_distance_m`` is ``None``.
    """
    if max_depot_distance_m is None or not problem.orders:
        return {}
    lat = np.array([o.lat for o in problem.orders], dtype=np.float64)
    lon = np.array([o.lon for o in problem.orders], dtype=np.float64)
    distance_m = haversine_m(problem.depot.lat, problem.depot.lon, lat, lon)
    return {int(i): float(distance_m[i]) for i in np.flatnonzero(distance_m > max_depot_distance_m)}


def _outside_area_reason(problem: Problem, distance_m: float, max_depot_distance_m: int) -> str:
    return (
        f"lies {distance_m / 1000:.0f} km from depot {problem.depot.depot_id} in a straight line, outside its "
        f"delivery area of {max_depot_distance_m / 1000:g} km; check the address and its coordinates"
    )


def reachable_alone(problem: Problem, matrices: TravelMatrices) -> tuple[np.ndarray, np.ndarray]:
    """Which orders each vehicle could serve on a route of its own, in time (skills and size aside).

    Parameters
    ----------
    problem
        The depot's problem.
    matrices
        Travel matrices over ``[depot] + orders`` as for :func:`presolve`.

    Returns
    -------
    reachable
        Shape ``(n_vehicles, n_orders)``, bool: the vehicle can leave the depot, start service within the
        order's window and be back within its working window (shift and depot hours).
    earliest
        Shape ``(n_vehicles, n_orders)``, int64: the earliest service start in seconds since local midnight;
        the largest int64 for a vehicle whose shift misses the depot's opening hours.
    """
    orders, vehicles = problem.orders, problem.vehicles
    tw_start = np.array([o.tw_start_s for o in orders], dtype=np.int64)
    tw_end = np.array([o.tw_end_s for o in orders], dtype=np.int64)
    service = np.array([o.service_s for o in orders], dtype=np.int64)
    reachable = np.zeros((len(vehicles), len(orders)), dtype=bool)
    earliest = np.full((len(vehicles), len(orders)), np.iinfo(np.int64).max, dtype=np.int64)
    for k, vehicle in enumerate(vehicles):
        depart, back_by = working_window(vehicle, problem)
        if depart > back_by:
            continue
        p = matrices.profile(vehicle.speed_kmh)
        out = matrices.duration_s[p, 0, 1:]
        back = matrices.duration_s[p, 1:, 0]
        start = np.maximum(depart + out, tw_start)
        earliest[k] = start
        reachable[k] = (start <= tw_end) & (start + service + back <= back_by)
    return reachable, earliest


def presolve(
    problem: Problem, matrices: TravelMatrices | None, max_depot_distance_m: int | None = None
) -> tuple[list[int], list[Unassigned]]:
    """Split the orders into those a vehicle could serve alone and those no vehicle ever can.

    Parameters
    ----------
    problem
        The depot's problem.
    matrices
        Travel matrices over ``[depot] + orders`` (location 0 is the depot, ``i + 1`` is order ``i``) with one
        profile per distinct vehicle speed; ``None`` when there are no vehicles.
    max_depot_distance_m
        Delivery area: orders farther from the depot (great-circle metres) are ``OUTSIDE_AREA``, whatever the
        fleet. ``None`` (default) for no limit.

    Returns
    -------
    servable
        Indices into ``problem.orders`` of orders that pass every check, ascending.
    unassigned
        One :class:`Unassigned` per other order, with the first failing code of :data:`PRESOLVE_CODES`, in the
        order of ``problem.orders``.
    """
    orders, vehicles = problem.orders, problem.vehicles
    servable: list[int] = []
    unassigned: list[Unassigned] = []
    if not orders:
        return servable, unassigned
    # Checked first: a far-away address is a data problem the dispatcher fixes, whatever the fleet.
    outside = outside_area(problem, max_depot_distance_m)
    far = {
        i: Unassigned(orders[i].order_id, "OUTSIDE_AREA", _outside_area_reason(problem, d, max_depot_distance_m))
        for i, d in outside.items()
    }
    if not vehicles or matrices is None:
        reason = f"depot {problem.depot.depot_id} has no vehicles available on the service date"
        return servable, [far.get(i) or Unassigned(o.order_id, "NO_VEHICLE", reason) for i, o in enumerate(orders)]

    reachable, earliest = reachable_alone(problem, matrices)
    latest_return = np.array([working_window(v, problem)[1] for v in vehicles], dtype=np.int64)

    for i, order in enumerate(orders):
        oid = order.order_id
        if i in far:
            unassigned.append(far[i])
            continue
        if order.tw_end_s < order.tw_start_s:
            unassigned.append(
                Unassigned(
                    oid,
                    "INVALID_WINDOW",
                    (f"its time window ends at {clock(order.tw_end_s)}, before it starts at {clock(order.tw_start_s)}"),
                )
            )
            continue
        skilled = [k for k, v in enumerate(vehicles) if can_carry_skills(v, order)]
        needs = " and ".join(sorted(order.required_skills))
        with_skills = f" with {needs}" if needs else ""
        if not skilled:
            missing = sorted(order.required_skills - set().union(*(v.skills for v in vehicles)))
            detail = (
                f"no vehicle at the depot has {' and '.join(missing)}"
                if missing
                else ("no single vehicle at the depot has all of them")
            )
            unassigned.append(Unassigned(oid, "NO_SKILLED_VEHICLE", f"needs {needs}; {detail}"))
            continue
        heavy_ok = [k for k in skilled if vehicles[k].capacity_weight_g >= order.weight_g]
        if not heavy_ok:
            largest = max(vehicles[k].capacity_weight_g for k in skilled)
            unassigned.append(
                Unassigned(
                    oid,
                    "TOO_HEAVY",
                    (f"weighs {_kg(order.weight_g)}; the largest vehicle{with_skills} carries {_kg(largest)}"),
                )
            )
            continue
        fits = [k for k in heavy_ok if vehicles[k].capacity_volume_cm3 >= order.volume_cm3]
        if not fits:
            largest = max(vehicles[k].capacity_volume_cm3 for k in heavy_ok)
            which = "vehicle" if len(heavy_ok) == len(skilled) else "vehicle that can carry its weight"
            unassigned.append(
                Unassigned(
                    oid,
                    "TOO_BULKY",
                    (
                        f"measures {_litres(order.volume_cm3)}; "
                        f"the largest {which}{with_skills} holds {_litres(largest)}"
                    ),
                )
            )
            continue
        if not reachable[fits, i].any():
            best = int(earliest[fits, i].min())
            known = best if best != np.iinfo(np.int64).max else None
            back_by = int(latest_return[fits].max())
            unassigned.append(Unassigned(oid, "WINDOW_UNREACHABLE", _unreachable_reason(order, known, back_by)))
            continue
        servable.append(i)
    return servable, unassigned


def diagnose_left_out(
    problem: Problem,
    left_out: Sequence[int],
    routes: Sequence[PlannedRoute],
    matrices: TravelMatrices,
) -> list[Unassigned]:
    """Explain orders that passed :func:`presolve` but are not on any route.

    Each order is checked alone against the routes as planned: ``FLEET_CAPACITY`` when no suitable vehicle
    (skills, size, and a shift that could serve the order on a route of its own) has room left for it,
    ``FLEET_TIME`` when some have room but the stop fits in none of their routes (or an unused vehicle's day)
    within its window, otherwise ``NOT_WORTH_SERVING``.

    Parameters
    ----------
    problem
        The depot's problem.
    left_out
        Indices into ``problem.orders``.
    routes
        The plan's routes.
    matrices
        Travel matrices over ``[depot] + orders`` as for :func:`presolve`.

    Returns
    -------
    list of Unassigned
        One per index of ``left_out``, same order.
    """
    orders, vehicles = problem.orders, problem.vehicles
    index_of = {o.order_id: i for i, o in enumerate(orders)}
    route_of = {r.vehicle_id: r for r in routes}
    # Per used vehicle: locations along the route, schedule arrays, loads and slack, computed once.
    prepared: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]]] = {}
    for vehicle in vehicles:
        route = route_of.get(vehicle.vehicle_id)
        if route is None:
            continue
        stop_orders = [orders[index_of[s.order_id]] for s in route.stops]
        locs = np.array([0] + [index_of[s.order_id] + 1 for s in route.stops] + [0], dtype=np.int64)
        # Departure from the previous location (the depot's earliest departure for the first leg).
        depart_prev = np.array([working_window(vehicle, problem)[0]] + [s.departure_s for s in route.stops])
        arrival_next = np.array([s.arrival_s for s in route.stops] + [route.end_s])
        # Largest delay of the arrival at each position that keeps the rest of the route on time.
        slack = np.empty(len(route.stops) + 1, dtype=np.int64)
        slack[-1] = working_window(vehicle, problem)[1] - route.end_s
        for j in range(len(route.stops) - 1, -1, -1):
            stop, order = route.stops[j], stop_orders[j]
            slack[j] = stop.wait_s + min(order.tw_end_s - stop.service_start_s, int(slack[j + 1]))
        loads = (
            sum(o.weight_g for o in stop_orders if o.order_type == "delivery"),
            sum(o.volume_cm3 for o in stop_orders if o.order_type == "delivery"),
            sum(o.weight_g for o in stop_orders if o.order_type == "pickup"),
            sum(o.volume_cm3 for o in stop_orders if o.order_type == "pickup"),
        )
        prepared[vehicle.vehicle_id] = (locs, depart_prev, arrival_next, slack, loads)

    result: list[Unassigned] = []
    for i in left_out:
        order = orders[i]
        window = f"{clock(order.tw_start_s)}-{clock(order.tw_end_s)}"
        # Only vehicles that could serve the order on a day of their own count: one whose shift cannot reach
        # it (or misses the depot's hours) having room says nothing about why the order is left out.
        suitable = [
            v
            for v in vehicles
            if can_carry_skills(v, order)
            and v.capacity_weight_g >= order.weight_g
            and v.capacity_volume_cm3 >= order.volume_cm3
            and _fits_in_time(problem, v, i, None, matrices)
        ]
        with_room: list[Vehicle] = []
        for v in suitable:
            if v.vehicle_id not in prepared:
                with_room.append(v)
                continue
            dw, dv, pw, pv = prepared[v.vehicle_id][4]
            w, vol = (dw, dv) if order.order_type == "delivery" else (pw, pv)
            if w + order.weight_g <= v.capacity_weight_g and vol + order.volume_cm3 <= v.capacity_volume_cm3:
                with_room.append(v)
        if not with_room:
            result.append(
                Unassigned(
                    order.order_id,
                    "FLEET_CAPACITY",
                    (
                        f"every suitable vehicle is too full to take another {_kg(order.weight_g)} and "
                        f"{_litres(order.volume_cm3)}"
                    ),
                )
            )
            continue
        if any(_fits_in_time(problem, v, i, prepared.get(v.vehicle_id), matrices) for v in with_room):
            result.append(
                Unassigned(
                    order.order_id,
                    "NOT_WORTH_SERVING",
                    (
                        "a route has room and time for it, but the solver left it out: serving it costs more "
                        "than leaving it unserved, or the search stopped before finding a place for it"
                    ),
                )
            )
        else:
            result.append(
                Unassigned(
                    order.order_id,
                    "FLEET_TIME",
                    (f"vehicles with room left cannot fit the stop into their routes within its window {window}"),
                )
            )
    return result


def _fits_in_time(problem: Problem, vehicle: Vehicle, i: int, prepared, matrices: TravelMatrices) -> bool:
    order = problem.orders[i]
    p = matrices.profile(vehicle.speed_kmh)
    duration = matrices.duration_s[p]
    loc = i + 1
    if prepared is None:  # an unused vehicle: a route of its own
        depart, back_by = working_window(vehicle, problem)
        start = max(depart + int(duration[0, loc]), order.tw_start_s)
        return start <= order.tw_end_s and start + order.service_s + int(duration[loc, 0]) <= back_by
    locs, depart_prev, arrival_next, slack, _ = prepared
    arrive = depart_prev + duration[locs[:-1], loc]
    start = np.maximum(arrive, order.tw_start_s)
    new_arrival_next = start + order.service_s + duration[loc, locs[1:]]
    ok = (start <= order.tw_end_s) & (new_arrival_next - arrival_next <= slack)
    return bool(ok.any())
