"""Why an order is not in the plan, and what the dispatcher can do about it.

Pre-solve checks (:func:`presolve`) remove orders no vehicle could ever serve, so the search only sees orders
it can plan. Post-solve checks (:func:`diagnose_left_out`) explain the orders the search left out, given the
routes it built. :data:`REASON_CODES` is the one list of reason codes and :data:`ACTIONS` what to do about each,
for the app and the docs.

Travel matrices span ``[problem.depot] + problem.orders + problem.depots``: location 0 is the problem's depot,
``i + 1`` is order ``i`` and ``len(orders) + 1 + j`` is ``depots[j]`` (:meth:`~solver.model.Problem.depot_location`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from solver.costs import unserved_penalty_eur
from solver.model import Order, PlannedRoute, Problem, SolveConfig, Unassigned, Vehicle
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
    "TOO_MANY_PARCELS": "The order has more parcels than the largest suitable vehicle holds.",
    "WINDOW_UNREACHABLE": (
        "No suitable vehicle can leave its depot, serve the order within one of its windows and return within "
        "its shift (overtime included), the depots' opening hours and its longest route (distance and duration)."
    ),
    "PAIR_UNSERVABLE": (
        "The order is one end of a shipment (a pickup and its delivery, served on one route or not at all) and "
        "the other end cannot be served."
    ),
    "FLEET_CAPACITY": "Every suitable vehicle is too full to take the order.",
    "FLEET_TIME": "Suitable vehicles have room, but none can fit the stop into its route in time.",
    "ROUTE_LIMIT": ("Every route with room and time for the order would exceed its maximum distance or duration."),
    "NOT_WORTH_SERVING": (
        "A route could take the order, but the solver left it out: serving it costs more than its unserved "
        "penalty, or the search stopped before it found a place for it."
    ),
    "SEARCH_LIMIT": (
        "The search stopped (iteration limit or time budget) before it found a feasible route for the order, "
        "although a route has room and time for it; a longer time budget may plan it."
    ),
    "DELIVERY_FAILED": (
        "A delivery attempt failed today and the order is not tried again the same day (its failure reason is not "
        "retried, or none of its windows opens long enough after the failure)."
    ),
}
"""Reason code -> description of every code :class:`~solver.model.Unassigned` can carry."""

ACTIONS: dict[str, str] = {
    "OUTSIDE_AREA": "Check the address and its coordinates, or move the order to the depot that serves the area.",
    "NO_VEHICLE": "Add a vehicle to the depot for the day, or move its orders to another depot.",
    "INVALID_WINDOW": "Correct the order's time window with the customer.",
    "NO_SKILLED_VEHICLE": "Add a vehicle with the skill the order needs (e.g. tail_lift), or relax the requirement.",
    "TOO_HEAVY": "Split the order, or add a vehicle that carries its weight.",
    "TOO_BULKY": "Split the order, or add a vehicle that holds its volume.",
    "TOO_MANY_PARCELS": "Split the order, or consolidate its parcels (e.g. onto a pallet).",
    "WINDOW_UNREACHABLE": "Move the window with the customer, extend a shift or allow overtime.",
    "PAIR_UNSERVABLE": "Fix the other end of the shipment (see its reason); both ends are planned together.",
    "FLEET_CAPACITY": "Add a vehicle, allow a reload trip, or move the order to another day.",
    "FLEET_TIME": "Widen or move the window, add a vehicle, or allow overtime.",
    "ROUTE_LIMIT": "Raise the vehicles' maximum route distance or duration, or add a vehicle.",
    "NOT_WORTH_SERVING": "Raise the order's priority or unserved penalty if it must go out today.",
    "SEARCH_LIMIT": "Plan again with a longer time budget.",
    "DELIVERY_FAILED": "Contact the customer and plan the order for another day.",
}
"""Reason code -> what a dispatcher can do about it; same keys as :data:`REASON_CODES`."""

PRESOLVE_CODES = (
    "OUTSIDE_AREA",
    "NO_VEHICLE",
    "INVALID_WINDOW",
    "NO_SKILLED_VEHICLE",
    "TOO_HEAVY",
    "TOO_BULKY",
    "TOO_MANY_PARCELS",
    "WINDOW_UNREACHABLE",
    "PAIR_UNSERVABLE",
)
"""Codes given before the search, in the order they are checked (a shipment's pair check comes last)."""

_NEVER = np.iinfo(np.int64).max
_DIMENSIONS = ("weight", "volume", "parcels")


def clock(seconds: int) -> str:
    """Format seconds since local midnight as ``HH:MM`` (``+1d`` past midnight)."""
    days, rest = divmod(int(seconds), 86_400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return text + (f" (+{days}d)" if days else "")


def _kg(grams: int) -> str:
    return f"{round(grams / 1000, 1):g} kg"


def _litres(cm3: int) -> str:
    return f"{round(cm3 / 1000, 1):g} L"


def _parcels(n: int) -> str:
    return f"{n} parcel" if n == 1 else f"{n} parcels"


def _km(metres: float) -> str:
    return f"{round(metres / 1000, 1):g} km"


def _hours(seconds: float) -> str:
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


def _eur(eur: float) -> str:
    return f"{eur:,.2f}".rstrip("0").rstrip(".") + " EUR"


def _windows_text(order: Order) -> str:
    windows = ", ".join(f"{clock(a)}-{clock(b)}" for a, b in order.windows)
    return f"windows {windows}" if order.extra_windows else f"window {windows}"


def _with_mandatory(order: Order, reason: str) -> str:
    return f"{reason} (mandatory order)" if order.priority == "mandatory" else reason


def can_carry_skills(vehicle: Vehicle, order: Order) -> bool:
    """Whether ``vehicle`` has every skill ``order`` requires."""
    return order.required_skills <= vehicle.skills


def _size(order: Order) -> np.ndarray:
    return np.array([order.weight_g, order.volume_cm3, order.parcels], dtype=np.int64)


def _capacity(vehicle: Vehicle) -> np.ndarray:
    parcels = vehicle.capacity_parcels if vehicle.capacity_parcels is not None else _NEVER
    return np.array([vehicle.capacity_weight_g, vehicle.capacity_volume_cm3, parcels], dtype=np.int64)


def _break_reserve(vehicle: Vehicle, problem: Problem) -> int:
    """Break time the search keeps free: ``break_s`` when the break window opens before the latest return."""
    hard_end = min(vehicle.shift_end_s + vehicle.max_overtime_s, problem.end_depot(vehicle).closes_s)
    if vehicle.break_s > 0 and vehicle.break_earliest_s is not None and vehicle.break_earliest_s < hard_end:
        return vehicle.break_s
    return 0


def working_window(vehicle: Vehicle, problem: Problem) -> tuple[int, int]:
    """Earliest departure from the start depot and latest return to the end depot, seconds since local midnight.

    The vehicle leaves its start depot (:meth:`~solver.model.Problem.start_depot`) no earlier than its shift
    start and the depot's opening, and returns to its end depot by ``shift_end_s + max_overtime_s`` or the end
    depot's closing, the earlier. A vehicle with overtime leaves at the start of its shift, so with a
    ``max_duration_s`` it is also back by that departure plus ``max_duration_s``. The driver's break is reserved,
    as the search reserves it: with a break whose window opens before that return, the usable return is
    ``break_s`` earlier. Route distance and, for a vehicle that may leave later, route duration are checked per
    route, not here.

    Returns
    -------
    tuple of int
        ``(earliest departure, latest return)``; the second is before the first (an empty window) when the
        vehicle cannot leave its start depot within its shift and that depot's opening hours.
    """
    start = problem.start_depot(vehicle)
    depart = max(vehicle.shift_start_s, start.opens_s)
    back_by = min(vehicle.shift_end_s + vehicle.max_overtime_s, problem.end_depot(vehicle).closes_s)
    if vehicle.max_overtime_s and vehicle.max_duration_s is not None:
        back_by = min(back_by, depart + vehicle.max_duration_s)
    back_by -= _break_reserve(vehicle, problem)
    if depart > min(vehicle.shift_end_s, start.closes_s):
        back_by = min(back_by, depart - 1)
    return depart, back_by


def _latest_departure(vehicle: Vehicle, problem: Problem) -> int:
    """Latest departure from the start depot: the earliest one for a vehicle with overtime."""
    depart, back_by = working_window(vehicle, problem)
    if vehicle.max_overtime_s:
        return depart
    return min(back_by, vehicle.shift_end_s, problem.start_depot(vehicle).closes_s)


def _duration_limit(vehicle: Vehicle, problem: Problem) -> int:
    """Longest route the search allows, seconds (the break reserved); :data:`_NEVER` without a limit."""
    if vehicle.max_duration_s is None:
        return _NEVER
    return vehicle.max_duration_s - _break_reserve(vehicle, problem)


def _distance_limit(vehicle: Vehicle) -> int:
    return vehicle.max_distance_m if vehicle.max_distance_m is not None else _NEVER


@dataclass(frozen=True)
class _Reach:
    """Per vehicle and order, shape ``(n_vehicles, n_orders)``: what a route of its own could do."""

    time_ok: np.ndarray  # some window can be served and the vehicle be back in time
    duration_ok: np.ndarray  # ... and, in such a window, the route is within its maximum duration
    distance_ok: np.ndarray  # out and back within the maximum distance
    earliest: np.ndarray  # earliest service start of a reachable window, else the earliest arrival
    arrival: np.ndarray  # earliest arrival from the start depot
    round_trip_m: np.ndarray  # start depot -> order -> end depot, metres
    round_trip_s: np.ndarray  # the same in seconds, service included (no waiting)

    @property
    def reachable(self) -> np.ndarray:
        return self.time_ok & self.duration_ok & self.distance_ok


def _reach(problem: Problem, matrices: TravelMatrices) -> _Reach:
    orders, vehicles = problem.orders, problem.vehicles
    n, m = len(orders), len(vehicles)
    n_windows = max((len(o.windows) for o in orders), default=1)
    # Missing windows are padded with an empty one (start 0, end -1), which no service start can meet.
    tw_start = np.zeros((n_windows, n), dtype=np.int64)
    tw_end = np.full((n_windows, n), -1, dtype=np.int64)
    for i, order in enumerate(orders):
        for w, (a, b) in enumerate(order.windows):
            tw_start[w, i], tw_end[w, i] = a, b
    service = np.array([o.service_s for o in orders], dtype=np.int64)
    # No trip with an order leaves the depot before the order is ready there (Order.release_s).
    release = np.array([o.release_s for o in orders], dtype=np.int64)
    locs = np.arange(1, n + 1)
    shape = (m, n)
    time_ok = np.zeros(shape, dtype=bool)
    duration_ok = np.zeros(shape, dtype=bool)
    distance_ok = np.zeros(shape, dtype=bool)
    earliest = np.full(shape, _NEVER, dtype=np.int64)
    arrival = np.full(shape, _NEVER, dtype=np.int64)
    round_trip_m = np.zeros(shape, dtype=np.int64)
    round_trip_s = np.zeros(shape, dtype=np.int64)
    for k, vehicle in enumerate(vehicles):
        s = problem.depot_location(vehicle.start_depot_id)
        e = problem.depot_location(vehicle.end_depot_id)
        p = matrices.profile(vehicle.speed_kmh)
        out, back = matrices.duration_s[p, s, locs], matrices.duration_s[p, locs, e]
        round_trip_m[k] = matrices.distance_m[p, s, locs] + matrices.distance_m[p, locs, e]
        round_trip_s[k] = out + service + back
        distance_ok[k] = round_trip_m[k] <= _distance_limit(vehicle)
        depart, back_by = working_window(vehicle, problem)
        if depart > back_by:
            continue
        latest_depart = _latest_departure(vehicle, problem)
        limit = _duration_limit(vehicle, problem)
        ready = np.maximum(depart, release)
        arrival[k] = ready + out
        for w in range(n_windows):
            a, b = tw_start[w], tw_end[w]
            start = np.maximum(ready + out, a)
            in_time = (start <= b) & (start + service + back <= back_by)
            # The shortest route leaves as late as still serves this window: durations only shrink with it.
            leave = np.maximum(np.minimum(np.minimum(latest_depart, b - out), back_by - back - service - out), release)
            duration = np.maximum(leave + out, a) + service + back - leave
            short = in_time & (duration <= limit)
            earliest[k] = np.where(short & (start < earliest[k]), start, earliest[k])
            time_ok[k] |= in_time
            duration_ok[k] |= short
        earliest[k] = np.where(duration_ok[k] & distance_ok[k], earliest[k], arrival[k])
    return _Reach(time_ok, duration_ok, distance_ok, earliest, arrival, round_trip_m, round_trip_s)


def reachable_alone(problem: Problem, matrices: TravelMatrices) -> tuple[np.ndarray, np.ndarray]:
    """Which orders each vehicle could serve on a route of its own, in time (skills and size aside).

    Parameters
    ----------
    problem
        The depot's problem.
    matrices
        Travel matrices over ``[depot] + orders + depots`` as for :func:`presolve`.

    Returns
    -------
    reachable
        Shape ``(n_vehicles, n_orders)``, bool: the vehicle can leave its start depot, start service within one
        of the order's windows and be back at its end depot within its :func:`working_window`, the route within
        ``max_duration_s`` (leaving as late as the window allows; the break reserved) and ``max_distance_m``.
    earliest
        Shape ``(n_vehicles, n_orders)``, int64: the earliest service start in a window the vehicle can serve,
        else the earliest arrival from the start depot, seconds since local midnight; the largest int64 for a
        vehicle whose working window is empty.
    """
    reach = _reach(problem, matrices)
    return reach.reachable, reach.earliest


def _sequence_status(
    problem: Problem, matrices: TravelMatrices, vehicle: Vehicle, visits: Sequence[int]
) -> tuple[bool, bool, bool]:
    """Whether ``vehicle`` can serve ``visits`` (order indices) in this order on a route of its own.

    Returns ``(in time, in time and within the maximum duration, within the maximum distance)``; the windows are
    tried in every combination, each leaving the depot as late as still serves them.
    """
    depart, back_by = working_window(vehicle, problem)
    p = matrices.profile(vehicle.speed_kmh)
    duration, distance = matrices.duration_s[p], matrices.distance_m[p]
    path = [problem.depot_location(vehicle.start_depot_id), *(i + 1 for i in visits)]
    path.append(problem.depot_location(vehicle.end_depot_id))
    legs = [int(duration[a, b]) for a, b in itertools.pairwise(path)]
    in_distance = sum(int(distance[a, b]) for a, b in itertools.pairwise(path)) <= _distance_limit(vehicle)
    if depart > back_by:
        return False, False, in_distance
    orders = [problem.orders[i] for i in visits]
    latest_depart, limit = _latest_departure(vehicle, problem), _duration_limit(vehicle, problem)

    def run(leave: int, windows) -> int | None:
        t = leave
        for leg, order, (a, b) in zip(legs, orders, windows, strict=False):
            t = max(t + leg, a)
            if t > b:
                return None
            t += order.service_s
        t += legs[-1]
        return t if t <= back_by else None

    in_time = short = False
    for windows in itertools.product(*(o.windows for o in orders)):
        if run(depart, windows) is None:
            continue
        in_time = True
        # Latest departure that keeps every window and the return: each bound assumes no waiting before it.
        leave, ahead = latest_depart, 0
        for leg, order, (_, b) in zip(legs, orders, windows, strict=False):
            ahead += leg
            leave = min(leave, b - ahead)
            ahead += order.service_s
        leave = max(depart, min(leave, back_by - ahead - legs[-1]))
        end = run(leave, windows)
        short |= end is not None and end - leave <= limit
    return in_time, short, in_distance


def outside_area(problem: Problem, max_depot_distance_m: int | None) -> dict[int, float]:
    """Orders farther from the depot than ``max_depot_distance_m`` (great-circle metres, before circuity).

    Returns
    -------
    dict of int to float
        Index into ``problem.orders`` -> great-circle distance to the problem's depot in metres; empty when
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


def _unreachable_reason(problem: Problem, order: Order, i: int, fleet: Sequence[int], reach: _Reach) -> str:
    """Why none of the vehicles ``fleet`` (indices) can serve order ``i`` on a route of its own."""
    vehicles = problem.vehicles
    windows = [working_window(vehicles[k], problem) for k in fleet]
    active = [k for k, (depart, back_by) in zip(fleet, windows, strict=True) if depart <= back_by]
    if not active:
        return "no suitable vehicle has a shift that overlaps its depot's opening hours"
    timely = [k for k in active if reach.time_ok[k, i]]
    if timely and not any(reach.distance_ok[k, i] for k in timely):
        longest = max(_distance_limit(vehicles[k]) for k in timely)
        return (
            f"the trip from the depot and back is {_km(min(reach.round_trip_m[k, i] for k in timely))}, more than "
            f"the longest route a suitable vehicle may drive ({_km(longest)})"
        )
    if timely:
        longest = max(_duration_limit(vehicles[k], problem) for k in timely)
        return (
            f"serving it within its {_windows_text(order)} takes a route of at least "
            f"{_hours(min(reach.round_trip_s[k, i] for k in timely))}, longer than any suitable vehicle may "
            f"drive ({_hours(longest)}, break reserved)"
        )
    arrival = min(int(reach.arrival[k, i]) for k in active)
    back_by = max(working_window(vehicles[k], problem)[1] for k in active)
    if all(a >= back_by for a, _ in order.windows):
        return (
            f"{_windows_text(order)} starts after every suitable vehicle's day ends: the last must be back at the "
            f"depot by {clock(back_by)} (end of shift or depot closing)"
        )
    if all(arrival > b for _, b in order.windows):
        ready = f" (the parcel is ready at the depot at {clock(order.release_s)})" if order.release_s > 0 else ""
        return (
            f"{_windows_text(order)} cannot be reached: the earliest a suitable vehicle can be there is "
            f"{clock(arrival)}{ready}"
        )
    return (
        f"serving it within its {_windows_text(order)} leaves no suitable vehicle time to get back to the depot "
        f"by {clock(back_by)} (end of shift or depot closing)"
    )


def _size_failure(
    order: Order, size: np.ndarray, vehicles: Sequence[Vehicle], candidates: Sequence[int], fleet: str
) -> tuple[list[int], Unassigned | None]:
    """The candidates that carry ``size``; else the first dimension none can carry, as an Unassigned."""
    oid = order.order_id
    fits = list(candidates)
    for dim, code in enumerate(("TOO_HEAVY", "TOO_BULKY", "TOO_MANY_PARCELS")):
        ok = [k for k in fits if _capacity(vehicles[k])[dim] >= size[dim]]
        if ok:
            fits = ok
            continue
        largest = max(int(_capacity(vehicles[k])[dim]) for k in fits)
        carried = " and ".join(_DIMENSIONS[:dim])
        which = fleet if len(fits) == len(candidates) else f"{fleet} that can carry its {carried}"
        text = {
            0: f"weighs {_kg(int(size[0]))}; the largest {which} carries {_kg(largest)}",
            1: f"measures {_litres(int(size[1]))}; the largest {which} holds {_litres(largest)}",
            2: f"has {_parcels(int(size[2]))}; the largest {which} holds {_parcels(largest)}",
        }[dim]
        return [], Unassigned(oid, code, text)
    return fits, None


def presolve(
    problem: Problem, matrices: TravelMatrices | None, max_depot_distance_m: int | None = None
) -> tuple[list[int], list[Unassigned]]:
    """Split the orders into those a vehicle could serve alone and those no vehicle ever can.

    Parameters
    ----------
    problem
        The depot's problem.
    matrices
        Travel matrices over ``[depot] + orders + depots`` (location 0 is the problem's depot, ``i + 1`` is order
        ``i``, ``len(orders) + 1 + j`` is ``depots[j]``) with one profile per distinct vehicle speed; ``None``
        when there are no vehicles.
    max_depot_distance_m
        Delivery area: orders farther from the problem's depot (great-circle metres) are ``OUTSIDE_AREA``,
        whatever the fleet. ``None`` (default) for no limit.

    Returns
    -------
    servable
        Indices into ``problem.orders`` of orders that pass every check, ascending. Both ends of a shipment are
        servable or neither: one vehicle must be able to carry the pickup's size, collect it within one of the
        pickup's windows and deliver it within one of the delivery's windows, and be back in time.
    unassigned
        One :class:`Unassigned` per other order, with the first failing code of :data:`PRESOLVE_CODES`, in the
        order of ``problem.orders``. The end of a shipment whose other end fails is ``PAIR_UNSERVABLE``. A
        mandatory order that fails is unassigned like any other, and its reason says it was mandatory.
    """
    orders, vehicles = problem.orders, problem.vehicles
    if not orders:
        return [], []
    # Checked first: a far-away address is a data problem the dispatcher fixes, whatever the fleet.
    outside = outside_area(problem, max_depot_distance_m)
    failed: dict[int, Unassigned] = {
        i: Unassigned(orders[i].order_id, "OUTSIDE_AREA", _outside_area_reason(problem, d, max_depot_distance_m))
        for i, d in outside.items()
    }
    if not vehicles or matrices is None:
        reason = f"depot {problem.depot.depot_id} has no vehicles available on the service date"
        for i, order in enumerate(orders):
            failed.setdefault(i, Unassigned(order.order_id, "NO_VEHICLE", reason))
        return [], _finish(problem, failed)

    reach = _reach(problem, matrices)
    carrier = problem.on_board_vehicle()
    for i in range(len(orders)):
        if i not in failed:
            found = _check_alone(problem, i, reach, carrier.get(orders[i].order_id))
            if found is not None:
                failed[i] = found

    index_of = {o.order_id: i for i, o in enumerate(orders)}
    for order in orders:
        if order.shipment_id is None or order.order_type != "pickup":
            continue
        pickup, delivery = index_of[order.order_id], index_of[problem.partner(order).order_id]
        if pickup not in failed and delivery not in failed:
            end, found = _check_pair(problem, matrices, pickup, delivery)
            if found is not None:
                failed[end] = found
        for end, other in ((pickup, delivery), (delivery, pickup)):
            if other in failed and end not in failed:
                failed[end] = Unassigned(
                    orders[end].order_id,
                    "PAIR_UNSERVABLE",
                    f"its paired order {orders[other].order_id} cannot be served: {failed[other].reason}",
                )
    return [i for i in range(len(orders)) if i not in failed], _finish(problem, failed)


def _finish(problem: Problem, failed: dict[int, Unassigned]) -> list[Unassigned]:
    """The failures in the order of ``problem.orders``, mandatory ones marked as such."""
    return [
        Unassigned(u.order_id, u.reason_code, _with_mandatory(problem.orders[i], u.reason))
        for i, u in sorted(failed.items())
    ]


def _check_alone(problem: Problem, i: int, reach: _Reach, carrier: str | None = None) -> Unassigned | None:
    """The first failing pre-solve check of order ``i`` on its own, or ``None``. A parcel on board of a vehicle
    (``carrier``) can be served by that vehicle only. (A mandatory parcel on board of a van whose day ends before
    the parcel's window opens passed, as another van could reach it: the search then had a required order no
    route could take, kept no feasible solution, and its end was repaired stop by stop.)"""
    order, vehicles = problem.orders[i], problem.vehicles
    oid = order.order_id
    if all(b < a for a, b in order.windows):
        a, b = order.windows[0]
        return Unassigned(oid, "INVALID_WINDOW", f"its time window ends at {clock(b)}, before it starts at {clock(a)}")
    skilled = [k for k, v in enumerate(vehicles) if can_carry_skills(v, order)]
    needs = " and ".join(sorted(order.required_skills))
    if not skilled:
        missing = sorted(order.required_skills - set().union(*(v.skills for v in vehicles)))
        detail = (
            f"no vehicle at the depot has {' and '.join(missing)}"
            if missing
            else "no single vehicle at the depot has all of them"
        )
        return Unassigned(oid, "NO_SKILLED_VEHICLE", f"needs {needs}; {detail}")
    fleet = f"vehicle with {needs}" if needs else "vehicle"
    fits, too_big = _size_failure(order, _size(order), vehicles, skilled, fleet)
    if too_big is not None:
        return too_big
    if carrier is not None:
        fits = [k for k, v in enumerate(vehicles) if v.vehicle_id == carrier]
    if not reach.reachable[fits, i].any():
        reason = _unreachable_reason(problem, order, i, fits, reach)
        if carrier is not None:
            reason = f"it is on board of {carrier}, which cannot serve it: {reason}"
        return Unassigned(oid, "WINDOW_UNREACHABLE", reason)
    return None


def _check_pair(
    problem: Problem, matrices: TravelMatrices, pickup: int, delivery: int
) -> tuple[int, Unassigned | None]:
    """Whether one vehicle can collect ``pickup`` and then deliver ``delivery`` (order indices) on its own.

    Returns the end that fails (the delivery when the pair only fails together) and its Unassigned, or
    ``(pickup, None)`` when a vehicle can serve the pair.
    """
    orders, vehicles = problem.orders, problem.vehicles
    p_order, d_order = orders[pickup], orders[delivery]
    skills = p_order.required_skills | d_order.required_skills
    skilled = [k for k, v in enumerate(vehicles) if skills <= v.skills]
    if not skilled:
        # Each end alone has a vehicle: the skills they need together are the problem.
        end, other = (delivery, pickup) if d_order.required_skills - p_order.required_skills else (pickup, delivery)
        return end, Unassigned(
            orders[end].order_id,
            "NO_SKILLED_VEHICLE",
            (
                f"needs {' and '.join(sorted(orders[end].required_skills))} and its paired order "
                f"{orders[other].order_id} needs {' and '.join(sorted(orders[other].required_skills))}; "
                "no single vehicle at the depot has all of them"
            ),
        )
    needs = " and ".join(sorted(skills))
    fleet = f"vehicle with {needs}" if needs else "vehicle"
    fits, too_big = _size_failure(p_order, _size(p_order), vehicles, skilled, fleet)
    if too_big is not None:
        return pickup, too_big
    statuses = [_sequence_status(problem, matrices, vehicles[k], (pickup, delivery)) for k in fits]
    if any(all(status) for status in statuses):
        return pickup, None
    pair = f"after collecting it at {p_order.order_id} ({_windows_text(p_order)})"
    if not any(in_time for in_time, _, _ in statuses):
        back_by = max(working_window(vehicles[k], problem)[1] for k in fits)
        text = (
            f"{pair}, no suitable vehicle can deliver it within its {_windows_text(d_order)} and be back at the "
            f"depot by {clock(back_by)} (end of shift or depot closing)"
        )
    elif not any(in_time and in_distance for in_time, _, in_distance in statuses):
        text = f"{pair}, every suitable vehicle would exceed its maximum route distance to deliver it"
    else:
        text = f"{pair}, every suitable vehicle would exceed its maximum route duration to deliver it"
    return delivery, Unassigned(d_order.order_id, "WINDOW_UNREACHABLE", text)


# --- after the search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RouteView:
    """A planned route as a chain of nodes (start depot, stops and reloads, end depot) for insertion checks.

    ``dep[m]`` is when an inserted visit after node ``m`` could leave it (the earliest departure for the start
    depot, a break taken first), ``arr[m]`` the arrival at node ``m``, ``slack[m]`` how much later that arrival
    may be with the rest of the route still on time, ``waits[m]`` the waiting from node ``m`` to the end;
    ``load[m]`` is the load on the leg leaving node ``m``, per dimension, and ``trip[m]`` its trip.
    """

    locs: np.ndarray
    dep: np.ndarray
    arr: np.ndarray
    wait: np.ndarray
    own_slack: np.ndarray
    slack: np.ndarray
    waits: np.ndarray
    load: np.ndarray
    trip: np.ndarray
    route: PlannedRoute
    earliest: int
    duration_limit: int
    distance_limit: int
    reloads_left: bool


def _window_end(order: Order, service_start_s: int) -> int:
    """End of the window service starts in (the start itself when it is in none: no later is allowed)."""
    ends = [b for a, b in order.windows if a <= service_start_s <= b]
    return max(ends) if ends else service_start_s


def _route_view(problem: Problem, vehicle: Vehicle, route: PlannedRoute) -> _RouteView:
    index_of = {o.order_id: i for i, o in enumerate(problem.orders)}
    start_loc = problem.depot_location(route.start_depot_id or None)
    end_loc = problem.depot_location(route.end_depot_id or None)
    start_depot = problem.depot_of(route.start_depot_id or None)
    end_depot = problem.depot_of(route.end_depot_id or None)
    reload_depot = problem.reload_depot(vehicle)
    reload_loc = problem.depot_location(reload_depot.depot_id)
    has_break = route.break_start_s is not None
    reserve = 0 if has_break else _break_reserve(vehicle, problem)
    back_by = min(vehicle.shift_end_s + vehicle.max_overtime_s, end_depot.closes_s) - reserve
    earliest = max(vehicle.shift_start_s, start_depot.opens_s)

    def after_break(sequence: int, t: int) -> int:
        if has_break and route.break_after_sequence == sequence:
            return max(t, route.break_start_s) + vehicle.break_s
        return t

    reloads = {r.after_sequence: r for r in route.reloads}
    locs, dep, arr, wait, own = [start_loc], [after_break(0, earliest)], [0], [0], [0]
    # Per node: whether a trip starts there (a depot left with load), the load change at it, and the load a
    # trip leaves the depot with for it (deliveries outside shipments).
    is_depot, change, preload = [True], [np.zeros(3, dtype=np.int64)], [np.zeros(3, dtype=np.int64)]
    for stop in route.stops:
        order = problem.orders[index_of[stop.order_id]]
        locs.append(index_of[stop.order_id] + 1)
        dep.append(after_break(stop.sequence, stop.departure_s))
        arr.append(stop.arrival_s)
        wait.append(stop.wait_s)
        own.append(max(0, _window_end(order, stop.service_start_s) - stop.service_start_s))
        is_depot.append(False)
        if order.shipment_id is not None:
            pickup = order if order.order_type == "pickup" else problem.partner(order)
            change.append(_size(pickup) if order.order_type == "pickup" else -_size(pickup))
            preload.append(np.zeros(3, dtype=np.int64))
        elif order.order_type == "pickup":
            change.append(_size(order))
            preload.append(np.zeros(3, dtype=np.int64))
        else:
            change.append(-_size(order))
            preload.append(_size(order))
        reload = reloads.get(stop.sequence)
        if reload is not None:
            locs.append(reload_loc)
            dep.append(reload.departure_s)
            arr.append(reload.arrival_s)
            wait.append(0)
            own.append(max(0, reload_depot.closes_s - reload.arrival_s))
            is_depot.append(True)
            change.append(np.zeros(3, dtype=np.int64))
            preload.append(np.zeros(3, dtype=np.int64))
    locs.append(end_loc)
    dep.append(route.end_s)
    arr.append(route.end_s)
    wait.append(0)
    own.append(back_by - route.end_s)

    n_nodes = len(locs)
    slack = np.zeros(n_nodes, dtype=np.int64)
    waits = np.zeros(n_nodes, dtype=np.int64)
    slack[-1] = own[-1]
    for m in range(n_nodes - 2, 0, -1):
        slack[m] = wait[m] + min(own[m], slack[m + 1])
        waits[m] = wait[m] + waits[m + 1]
    load = np.zeros((n_nodes - 1, 3), dtype=np.int64)
    trip = np.zeros(n_nodes - 1, dtype=np.int64)
    current = np.zeros(3, dtype=np.int64)
    trip_no = -1
    for m in range(n_nodes - 1):
        if is_depot[m]:
            trip_no += 1
            nxt = next((q for q in range(m + 1, n_nodes - 1) if is_depot[q]), n_nodes - 1)
            current = sum(preload[m + 1 : nxt], np.zeros(3, dtype=np.int64))
        else:
            current = current + change[m]
        load[m] = current
        trip[m] = trip_no
    return _RouteView(
        locs=np.array(locs, dtype=np.int64),
        dep=np.array(dep, dtype=np.int64),
        arr=np.array(arr, dtype=np.int64),
        wait=np.array(wait, dtype=np.int64),
        own_slack=np.array(own, dtype=np.int64),
        slack=slack,
        waits=waits,
        load=load,
        trip=trip,
        route=route,
        earliest=earliest,
        duration_limit=(_NEVER if vehicle.max_duration_s is None else vehicle.max_duration_s - reserve),
        distance_limit=_distance_limit(vehicle),
        reloads_left=vehicle.max_reloads > len(route.reloads),
    )


@dataclass(frozen=True)
class _Fit:
    """What inserting an order (or both ends of a shipment) into one vehicle's day would allow."""

    room: bool  # some position has room in every dimension
    blocked: frozenset[int]  # dimensions without room at any position
    timely: bool  # some position has room and time
    fits: bool  # ... and keeps the route within its maximum distance and duration
    over_distance: bool  # a position with room and time exceeds the maximum distance
    over_duration: bool  # ... the maximum duration


_UNUSED = _Fit(room=True, blocked=frozenset(), timely=True, fits=True, over_distance=False, over_duration=False)
"""An unused suitable vehicle: a route of its own serves the order."""


def _leg_room(view: _RouteView, vehicle: Vehicle, size: np.ndarray, kind: str) -> np.ndarray:
    """Per leg and dimension, whether a visit inserted on that leg finds room: ``kind`` is ``"delivery"`` (on
    board from the trip's start), ``"pickup"`` (on board to the trip's end) or ``"shipment"`` (on this leg)."""
    if view.reloads_left:
        return np.ones(view.load.shape, dtype=bool)
    need = view.load.copy()
    n_legs = len(need)
    if kind == "delivery":
        for m in range(1, n_legs):
            if view.trip[m] == view.trip[m - 1]:
                need[m] = np.maximum(need[m], need[m - 1])
    elif kind == "pickup":
        for m in range(n_legs - 2, -1, -1):
            if view.trip[m] == view.trip[m + 1]:
                need[m] = np.maximum(need[m], need[m + 1])
    return need + size <= _capacity(vehicle)


def _fit(room_by_dim: np.ndarray, room: np.ndarray, timely: np.ndarray, short: np.ndarray, near: np.ndarray) -> _Fit:
    return _Fit(
        room=bool(room.any()),
        blocked=frozenset(d for d in range(3) if not room_by_dim[:, d].any()),
        timely=bool((room & timely).any()),
        fits=bool((room & short & near).any()),
        over_distance=bool((room & timely & ~near).any()),
        over_duration=bool((room & timely & ~short).any()),
    )


def _insert_one(problem: Problem, matrices: TravelMatrices, vehicle: Vehicle, view: _RouteView, i: int) -> _Fit:
    """Inserting order ``i`` on each leg of the route: room, time, and the route's limits."""
    order = problem.orders[i]
    p = matrices.profile(vehicle.speed_kmh)
    duration, distance = matrices.duration_s[p], matrices.distance_m[p]
    x, route = i + 1, view.route
    prev, nxt = view.locs[:-1], view.locs[1:]
    kind = "shipment" if order.shipment_id is not None else order.order_type
    room_by_dim = _leg_room(view, vehicle, _size(order), kind)
    arrive = view.dep[:-1] + duration[prev, x]
    timely = np.zeros(len(prev), dtype=bool)
    short = np.zeros(len(prev), dtype=bool)
    for a, b in order.windows:
        start = np.maximum(arrive, a)
        delay = start + order.service_s + duration[x, nxt] - view.arr[1:]
        ok = (start <= b) & (delay <= view.slack[1:])
        new_start = np.full(len(prev), route.start_s, dtype=np.int64)
        # First on the route: the vehicle may leave earlier than it did, as late as still meets the window.
        new_start[0] = min(route.start_s, max(view.dep[0], int(start[0] - duration[prev[0], x])))
        new_duration = route.end_s + np.maximum(0, delay - view.waits[1:]) - new_start
        timely |= ok
        short |= ok & (new_duration <= view.duration_limit)
    near = route.distance_m + distance[prev, x] + distance[x, nxt] - distance[prev, nxt] <= view.distance_limit
    return _fit(room_by_dim, room_by_dim.all(axis=1), timely, short, near)


def _insert_pair(
    problem: Problem, matrices: TravelMatrices, vehicle: Vehicle, view: _RouteView, pickup: int, delivery: int
) -> _Fit:
    """Inserting a shipment's pickup on one leg and its delivery on the same or a later leg of the same trip."""
    p_order, d_order = problem.orders[pickup], problem.orders[delivery]
    p = matrices.profile(vehicle.speed_kmh)
    duration, distance = matrices.duration_s[p], matrices.distance_m[p]
    P, D, route, locs = pickup + 1, delivery + 1, view.route, view.locs
    room_by_dim = _leg_room(view, vehicle, _size(p_order), "shipment")
    leg_room = room_by_dim.all(axis=1)
    found = dict(room=False, timely=False, fits=False, over_distance=False, over_duration=False)

    def record(room: bool, delay: int, node: int, added_m: int, first_leg: bool, t_pickup: int) -> None:
        if delay > view.slack[node]:
            return
        new_start = route.start_s
        if first_leg:
            new_start = min(route.start_s, max(int(view.dep[0]), t_pickup - int(duration[locs[0], P])))
        short = route.end_s + max(0, delay - int(view.waits[node])) - new_start <= view.duration_limit
        near = route.distance_m + added_m <= view.distance_limit
        found["timely"] |= room
        found["fits"] |= room and short and near
        found["over_distance"] |= room and not near
        found["over_duration"] |= room and not short

    def detour(a: int, x: int, b: int) -> int:
        return int(distance[a, x] + distance[x, b] - distance[a, b])

    n_legs = len(locs) - 1
    for j in range(n_legs):
        for a_p, b_p in p_order.windows:
            t_pickup = max(int(view.dep[j] + duration[locs[j], P]), a_p)
            if t_pickup > b_p:
                continue
            leave_p = t_pickup + p_order.service_s
            # The delivery right after the pickup.
            for a_d, b_d in d_order.windows:
                t_d = max(leave_p + int(duration[P, D]), a_d)
                if t_d <= b_d:
                    delay = t_d + d_order.service_s + int(duration[D, locs[j + 1]]) - int(view.arr[j + 1])
                    added = int(distance[locs[j], P] + distance[P, D] + distance[D, locs[j + 1]])
                    added -= int(distance[locs[j], locs[j + 1]])
                    record(bool(leg_room[j]), delay, j + 1, added, j == 0, t_pickup)
            # The delivery after one or more of the route's stops, in the same trip.
            delay = leave_p + int(duration[P, locs[j + 1]]) - int(view.arr[j + 1])
            room = bool(leg_room[j])
            for k in range(j + 1, n_legs):
                shift = max(0, delay - int(view.wait[k]))
                if shift > view.own_slack[k] or view.trip[k] != view.trip[j]:
                    break
                room = room and bool(leg_room[k])
                for a_d, b_d in d_order.windows:
                    t_d = max(int(view.dep[k]) + shift + int(duration[locs[k], D]), a_d)
                    if t_d <= b_d:
                        delay_d = t_d + d_order.service_s + int(duration[D, locs[k + 1]]) - int(view.arr[k + 1])
                        added = detour(locs[j], P, locs[j + 1]) + detour(locs[k], D, locs[k + 1])
                        record(room, delay_d, k + 1, added, j == 0, t_pickup)
                delay = shift
    return _Fit(
        room=bool(leg_room.any()),
        blocked=frozenset(d for d in range(3) if not room_by_dim[:, d].any()),
        timely=found["timely"],
        fits=found["fits"],
        over_distance=found["over_distance"],
        over_duration=found["over_duration"],
    )


_PRIORITY_LABELS = {
    "optional": "optional order",
    "normal": "normal priority",
    "high": "high priority",
    "mandatory": "mandatory order",
}


def _penalty_text(order: Order, config: SolveConfig | None) -> str:
    """``"100 EUR (optional order)"``; without a config only an order's own penalty has a number."""
    label = "set on the order" if order.unserved_penalty_eur is not None else _PRIORITY_LABELS[order.priority]
    if config is None and order.unserved_penalty_eur is None:
        return f"({label})"
    eur = order.unserved_penalty_eur if config is None else unserved_penalty_eur(order, config)
    return f"of {_eur(eur)} ({label})"


def _amounts(size: np.ndarray, dims: Sequence[int]) -> str:
    texts = {0: _kg(int(size[0])), 1: _litres(int(size[1])), 2: _parcels(int(size[2]))}
    return " and ".join(texts[d] for d in dims)


def _explain(
    problem: Problem, config: SolveConfig | None, ends: Sequence[int], fits: Sequence[_Fit]
) -> tuple[str, str]:
    """Reason code and sentence for one order (``ends`` of length 1) or a shipment (pickup, delivery)."""
    orders = [problem.orders[i] for i in ends]
    pair = len(ends) == 2
    size = _size(orders[0])
    if not any(f.room for f in fits):
        blocked = frozenset.intersection(*(f.blocked for f in fits)) if fits else frozenset()
        blocked = blocked or frozenset().union(*(f.blocked for f in fits))
        dims = sorted(blocked) or [d for d in range(3) if size[d] > 0]
        names = " and ".join(_DIMENSIONS[d] for d in dims)
        between = " between the pickup and the delivery" if pair else ""
        return "FLEET_CAPACITY", (
            f"every suitable vehicle is too full to take another {_amounts(size, dims)}{between} ({names} capacity)"
        )
    if any(f.fits for f in fits):
        if pair:
            penalties = " and ".join(_penalty_text(o, config) for o in orders)
            return "NOT_WORTH_SERVING", (
                f"a route has room and time for both ends, but serving them costs more than their unserved "
                f"penalties {penalties}"
            )
        return "NOT_WORTH_SERVING", (
            f"a route has room and time for it, but serving it costs more than its unserved penalty "
            f"{_penalty_text(orders[0], config)}"
        )
    if any(f.timely for f in fits):
        distance = any(f.over_distance for f in fits)
        duration = any(f.over_duration for f in fits)
        what = "distance or duration" if distance == duration else ("distance" if distance else "duration")
        them = "them" if pair else "it"
        return "ROUTE_LIMIT", f"every route with room would exceed its maximum {what} to serve {them}"
    if pair:
        return "FLEET_TIME", (
            f"vehicles with room left cannot fit the pickup ({_windows_text(orders[0])}) and then the delivery "
            f"({_windows_text(orders[1])}) into their routes in time"
        )
    return "FLEET_TIME", (
        f"vehicles with room left cannot fit the stop into their routes within its {_windows_text(orders[0])}"
    )


def diagnose_left_out(
    problem: Problem,
    left_out: Sequence[int],
    routes: Sequence[PlannedRoute],
    matrices: TravelMatrices,
    config: SolveConfig | None = None,
) -> list[Unassigned]:
    """Explain orders that passed :func:`presolve` but are not on any route.

    Each order is checked alone against the routes as planned, over the vehicles that could serve it on a route
    of their own (skills, size in every dimension, :func:`reachable_alone`). On each route it is tried on every
    leg, from the route's start depot over its reloads to its end depot, with its windows:

    * ``FLEET_CAPACITY`` when no such vehicle has room for it on any leg (a leg's load is what a trip carries
      there; a vehicle with reloads left, ``max_reloads > len(route.reloads)``, counts as having room); the
      sentence names the binding dimension (weight, volume or parcels);
    * ``FLEET_TIME`` when some have room but the stop fits in none of their routes within its windows and the
      rest of the route's windows and return;
    * ``ROUTE_LIMIT`` when it fits in time where there is room, but every such route would then exceed its
      ``max_distance_m`` or ``max_duration_s``;
    * otherwise ``NOT_WORTH_SERVING`` (an unused suitable vehicle always counts as a place), with the order's
      unserved penalty in the sentence when ``config`` is given (or the order sets its own).

    ``SEARCH_LIMIT`` is not given here: :func:`solver.solve.solve` turns ``NOT_WORTH_SERVING`` into it when the
    search was cut short. A shipment whose two ends are both left out is explained together: both ends get the
    same code, tried as a pickup and a later delivery on one trip with the pickup's size on board between them.

    Parameters
    ----------
    problem
        The depot's problem.
    left_out
        Indices into ``problem.orders``.
    routes
        The plan's routes.
    matrices
        Travel matrices over ``[depot] + orders + depots`` as for :func:`presolve`.
    config
        The solve's configuration, for the unserved penalties in the sentences; default ``None`` (penalties set
        by priority are then named without their amount).

    Returns
    -------
    list of Unassigned
        One per index of ``left_out``, same order.
    """
    orders, vehicles = problem.orders, problem.vehicles
    index_of = {o.order_id: i for i, o in enumerate(orders)}
    route_of = {r.vehicle_id: r for r in routes}
    reachable = reachable_alone(problem, matrices)[0]
    views: dict[str, _RouteView] = {}

    def view(vehicle: Vehicle) -> _RouteView:
        if vehicle.vehicle_id not in views:
            views[vehicle.vehicle_id] = _route_view(problem, vehicle, route_of[vehicle.vehicle_id])
        return views[vehicle.vehicle_id]

    left = set(left_out)
    explained: dict[int, Unassigned] = {}
    for i in left_out:
        if i in explained:
            continue
        order = orders[i]
        partner = problem.partner(order)
        other = index_of[partner.order_id] if partner is not None else None
        if other is not None and other in left:
            pickup, delivery = (i, other) if order.order_type == "pickup" else (other, i)
            skills = orders[pickup].required_skills | orders[delivery].required_skills
            suitable = [
                v
                for v in vehicles
                if skills <= v.skills
                and (_capacity(v) >= _size(orders[pickup])).all()
                and all(_sequence_status(problem, matrices, v, (pickup, delivery)))
            ]
            fits = [
                _insert_pair(problem, matrices, v, view(v), pickup, delivery) if v.vehicle_id in route_of else _UNUSED
                for v in suitable
            ]
            code, text = _explain(problem, config, (pickup, delivery), fits)
            for end, paired in ((pickup, delivery), (delivery, pickup)):
                reason = f"with its paired order {orders[paired].order_id}: {text}"
                explained[end] = Unassigned(orders[end].order_id, code, _mark_mandatory(orders[end], code, reason))
            continue
        suitable = [
            v
            for k, v in enumerate(vehicles)
            if can_carry_skills(v, order) and (_capacity(v) >= _size(order)).all() and reachable[k, i]
        ]
        fits = [
            _insert_one(problem, matrices, v, view(v), i) if v.vehicle_id in route_of else _UNUSED for v in suitable
        ]
        code, text = _explain(problem, config, (i,), fits)
        explained[i] = Unassigned(order.order_id, code, _mark_mandatory(order, code, text))
    return [explained[i] for i in left_out]


def _mark_mandatory(order: Order, code: str, reason: str) -> str:
    # NOT_WORTH_SERVING names the priority with the penalty already.
    return reason if code == "NOT_WORTH_SERVING" else _with_mandatory(order, reason)
