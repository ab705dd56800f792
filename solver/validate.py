"""Check a plan against its problem, independently of PyVRP.

Legs are recomputed from the travel model, so a bug in how the solver reads PyVRP's schedule shows up here.
With a :class:`~solver.timing.TimeDependentTravelModel` the times are recomputed as
:func:`~solver.timing.retime_route` does, and a stop may start after its window (or a route end after the
shift) only when it says so in ``late_s`` (``overtime_s``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from solver.costs import route_cost_eur
from solver.diagnostics import REASON_CODES, clock
from solver.model import Order, Plan, PlannedRoute, Problem, Vehicle
from solver.timing import TimeDependentTravelModel
from solver.travel import GreatCircleTravelModel, TravelModel

TOLERANCE_S = 1
"""Slack for rounding in time comparisons, seconds."""
TOLERANCE_M = 1
"""Slack for rounding per leg, metres."""


def validate(problem: Problem, plan: Plan, travel_model: TravelModel | None = None) -> list[str]:
    """List every way ``plan`` breaks the rules of ``problem``.

    Checks: every order appears exactly once (on a route or unassigned, with a known reason code); each
    vehicle is used at most once and exists at the depot; weight and volume stay within capacity along the
    route; service starts within the order's window; arrival, service start, departure and wait agree with the
    legs and service times (1 s tolerance); legs, route distance and duration agree with the travel model;
    routes stay within the vehicle's shift and the depot's opening hours; the vehicle has the skills each
    order needs; the route cost follows the cost model; ``in_preferred_window``, when recorded, says truly
    whether service starts in the order's preferred window.

    With a :class:`~solver.timing.TimeDependentTravelModel`, each leg must take
    :meth:`~solver.timing.TimeDependentTravelModel.leg_duration_s` from the previous departure and arrival
    (and the return) follow it exactly, service lasts ``round(service_s * service_factor)``, and a service start
    after ``tw_end_s`` (a return after the shift or the depot's closing) is allowed only with a matching
    ``late_s`` (``overtime_s``), 1 s tolerance each; a flag without lateness is a violation too. With any other
    model ``late_s`` and ``overtime_s`` must be 0.

    Parameters
    ----------
    problem
        The problem the plan was made for.
    plan
        The plan to check.
    travel_model
        The travel model the plan was made with; default great-circle with circuity 1.3.

    Returns
    -------
    list of str
        One plain sentence per violation; empty when the plan is valid.
    """
    travel_model = travel_model or GreatCircleTravelModel()
    errors: list[str] = []
    orders = {o.order_id: o for o in problem.orders}
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    depot = problem.depot

    if plan.depot_id != depot.depot_id:
        errors.append(f"plan is for depot {plan.depot_id} but the problem is for depot {depot.depot_id}")

    seen = Counter([s.order_id for r in plan.routes for s in r.stops] + [u.order_id for u in plan.unassigned])
    for order_id, count in sorted(seen.items()):
        if order_id not in orders:
            errors.append(f"order {order_id} is in the plan but not in the problem")
        elif count > 1:
            errors.append(f"order {order_id} appears {count} times in the plan")
    for order_id in orders:
        if order_id not in seen:
            errors.append(f"order {order_id} is neither on a route nor unassigned")
    for u in plan.unassigned:
        if u.reason_code not in REASON_CODES:
            errors.append(f"order {u.order_id} is unassigned with unknown reason code {u.reason_code!r}")

    used = Counter(r.vehicle_id for r in plan.routes)
    for vehicle_id, count in sorted(used.items()):
        if count > 1:
            errors.append(f"vehicle {vehicle_id} drives {count} routes")
    for route in plan.routes:
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            errors.append(f"route {route.route_id} uses vehicle {route.vehicle_id}, which is not at the depot")
            continue
        errors += _check_route(problem, route, vehicle, orders, travel_model)
    return errors


def _check_route(
    problem: Problem,
    route: PlannedRoute,
    vehicle: Vehicle,
    orders: dict[str, Order],
    travel_model: TravelModel,
) -> list[str]:
    errors: list[str] = []
    rid = f"route {route.route_id}"
    depot = problem.depot
    if route.vehicle_type != vehicle.vehicle_type:
        errors.append(
            f"{rid} says vehicle type {route.vehicle_type} but {vehicle.vehicle_id} is a {vehicle.vehicle_type}"
        )
    stops = [s for s in route.stops if s.order_id in orders]
    if len(stops) != len(route.stops):
        return errors  # unknown orders are reported by the caller; timing cannot be checked without them
    if [s.sequence for s in stops] != list(range(1, len(stops) + 1)):
        errors.append(f"{rid} has stop sequence numbers {[s.sequence for s in stops]}, expected 1..{len(stops)}")
    stop_orders = [orders[s.order_id] for s in stops]

    for o in stop_orders:
        missing = o.required_skills - vehicle.skills
        if missing:
            errors.append(
                f"order {o.order_id} needs {' and '.join(sorted(missing))}, which vehicle {vehicle.vehicle_id} lacks"
            )

    # Load along the route: everything to deliver is on board at the start, pickups come on board.
    for name, size, cap in (
        ("weight", "weight_g", vehicle.capacity_weight_g),
        ("volume", "volume_cm3", vehicle.capacity_volume_cm3),
    ):
        load = sum(getattr(o, size) for o in stop_orders if o.order_type == "delivery")
        peak = load
        for o in stop_orders:
            load += getattr(o, size) if o.order_type == "pickup" else -getattr(o, size)
            peak = max(peak, load)
        if peak > cap:
            errors.append(f"{rid} carries up to {peak} ({size}) but vehicle {vehicle.vehicle_id} takes {cap}")
        departure_load = sum(getattr(o, size) for o in stop_orders if o.order_type == "delivery")
        reported = getattr(route, size)
        if reported != departure_load:
            errors.append(
                f"{rid} reports {name} {reported} ({size}) at departure but its deliveries total {departure_load}"
            )

    lat = np.array([depot.lat] + [o.lat for o in stop_orders], dtype=np.float64)
    lon = np.array([depot.lon] + [o.lon for o in stop_orders], dtype=np.float64)
    m = travel_model.matrices(lat, lon, [vehicle.speed_kmh])
    path = list(range(1, len(stops) + 1)) + [0]
    leg_m = [int(m.distance_m[0, a, b]) for a, b in zip([0] + path[:-1], path, strict=True)]
    leg_s = [int(m.duration_s[0, a, b]) for a, b in zip([0] + path[:-1], path, strict=True)]
    timed = isinstance(travel_model, TimeDependentTravelModel)
    if timed:
        zones = travel_model.zone_factors(lat, lon)
        leg_zone = [float(np.sqrt(zones[a] * zones[b])) for a, b in zip([0] + path[:-1], path, strict=True)]
        service_factor = travel_model.service_factor(vehicle.vehicle_id)

        def timed_leg(k: int, depart_s: int) -> int:
            return travel_model.leg_duration_s(leg_m[k], vehicle.speed_kmh, depart_s, leg_zone[k], vehicle.vehicle_id)

    earliest, latest = max(vehicle.shift_start_s, depot.opens_s), min(vehicle.shift_end_s, depot.closes_s)
    if route.start_s < earliest:
        errors.append(
            f"{rid} leaves the depot at {clock(route.start_s)}, before {clock(earliest)} (shift start "
            f"{clock(vehicle.shift_start_s)}, depot opens {clock(depot.opens_s)})"
        )
    overtime = max(0, route.end_s - latest)
    if overtime and not (timed and abs(route.overtime_s - overtime) <= TOLERANCE_S):
        errors.append(
            f"{rid} returns to the depot at {clock(route.end_s)}, after {clock(latest)} (shift end "
            f"{clock(vehicle.shift_end_s)}, depot closes {clock(depot.closes_s)}), and reports overtime_s "
            f"{route.overtime_s} s"
        )
    elif route.overtime_s and not timed:
        errors.append(f"{rid} reports overtime_s {route.overtime_s} s; only time-dependent travel times make overtime")
    elif abs(route.overtime_s - overtime) > TOLERANCE_S:
        errors.append(f"{rid} reports overtime_s {route.overtime_s} s but returns {overtime} s after {clock(latest)}")
    if route.duration_s != route.end_s - route.start_s:
        errors.append(f"{rid} has duration {route.duration_s} s but runs from {route.start_s} s to {route.end_s} s")

    previous_departure = route.start_s
    for k, (s, o) in enumerate(zip(stops, stop_orders, strict=True)):
        at = f"stop {s.sequence} ({o.order_id}) of {rid}"
        drive_s = timed_leg(k, previous_departure) if timed else leg_s[k]
        if abs(s.leg_distance_m - leg_m[k]) > TOLERANCE_M:
            errors.append(f"{at} has a leg of {s.leg_distance_m} m; the travel model says {leg_m[k]} m")
        if abs(s.leg_duration_s - drive_s) > TOLERANCE_S:
            errors.append(f"{at} has a leg of {s.leg_duration_s} s; the travel model says {drive_s} s")
        if s.arrival_s < previous_departure + drive_s - TOLERANCE_S:
            errors.append(
                f"{at} arrives at {s.arrival_s} s, before leaving the previous stop ({previous_departure}"
                f" s) plus the {drive_s} s drive"
            )
        elif timed and s.arrival_s > previous_departure + drive_s + TOLERANCE_S:
            errors.append(
                f"{at} arrives at {s.arrival_s} s; leaving the previous stop at {previous_departure} s, the "
                f"{drive_s} s drive arrives at {previous_departure + drive_s} s"
            )
        if s.service_start_s < s.arrival_s:
            errors.append(f"{at} starts service at {s.service_start_s} s, before arriving at {s.arrival_s} s")
        if s.wait_s != s.service_start_s - s.arrival_s:
            errors.append(f"{at} waits {s.wait_s} s but arrives at {s.arrival_s} s and starts at {s.service_start_s} s")
        errors += _check_window(at, s.service_start_s, s.late_s, o, timed)
        expected = o.in_preferred_window(s.service_start_s)
        if s.in_preferred_window is not None and s.in_preferred_window != expected:
            errors.append(f"{at} says in_preferred_window={s.in_preferred_window}, but it is {expected}")
        service_s = round(o.service_s * service_factor) if timed else o.service_s
        if abs(s.departure_s - (s.service_start_s + service_s)) > TOLERANCE_S:
            errors.append(
                f"{at} departs at {s.departure_s} s but service of {service_s} s starts at {s.service_start_s} s"
            )
        previous_departure = s.departure_s
    back_s = timed_leg(len(stops), previous_departure) if timed else leg_s[-1]
    if route.end_s < previous_departure + back_s - TOLERANCE_S:
        errors.append(
            f"{rid} is back at {route.end_s} s, before leaving its last stop ({previous_departure} s) plus "
            f"the {back_s} s drive back"
        )
    elif timed and route.end_s > previous_departure + back_s + TOLERANCE_S:
        errors.append(
            f"{rid} is back at {route.end_s} s; leaving its last stop at {previous_departure} s, the {back_s} s "
            f"drive back arrives at {previous_departure + back_s} s"
        )
    if abs(route.distance_m - sum(leg_m)) > TOLERANCE_M * len(leg_m):
        errors.append(f"{rid} reports {route.distance_m} m; its legs add up to {sum(leg_m)} m")
    expected_cost = route_cost_eur(vehicle, route.distance_m, route.duration_s)
    if abs(route.cost_eur - expected_cost) > 1e-6:
        errors.append(f"{rid} costs {route.cost_eur} EUR; the cost model says {expected_cost} EUR")
    return errors


def _check_window(at: str, service_start_s: int, late_s: int, order: Order, timed: bool) -> list[str]:
    """Service starts within the order's window, or (time-dependent model only) after it with matching late_s."""
    window = f"{clock(order.tw_start_s)}-{clock(order.tw_end_s)}"
    lateness = max(0, service_start_s - order.tw_end_s)
    if service_start_s < order.tw_start_s or (lateness and not timed):
        return [f"{at} starts service at {clock(service_start_s)}, outside its window {window}"]
    if not timed:
        return [f"{at} reports late_s {late_s} s; only time-dependent travel times make a stop late"] if late_s else []
    if abs(late_s - lateness) > TOLERANCE_S:
        return [f"{at} starts service {lateness} s after its window {window} ends but reports late_s {late_s} s"]
    return []
