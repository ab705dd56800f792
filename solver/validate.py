"""Check a plan against its problem, independently of PyVRP.

Legs are recomputed from the travel model over each route's own locations (start depot, stops, end depot), so a
bug in how the solver reads PyVRP's schedule or indexes its locations shows up here. With a
:class:`~solver.timing.TimeDependentTravelModel` the times are recomputed as :func:`~solver.timing.retime_route`
does, and a stop may start after its window (or a route end after the shift) only when it says so in ``late_s``
(``overtime_s``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from solver.costs import route_cost_eur
from solver.diagnostics import REASON_CODES, clock
from solver.model import Depot, Order, Plan, PlannedReload, PlannedRoute, PlannedStop, Problem, Vehicle
from solver.replan import LiveState, ReplanConfig, VehicleStart, done_stops, remaining_problem
from solver.timing import TimeDependentTravelModel
from solver.travel import GreatCircleTravelModel, TravelModel

TOLERANCE_S = 1
"""Slack for rounding in time comparisons, seconds."""
TOLERANCE_M = 1
"""Slack for rounding per leg, metres."""

_START, _END = 0, 1
"""Locations of a route's own matrices: the start depot, the end depot, then its stops (``2 + k``)."""


def validate(problem: Problem, plan: Plan, travel_model: TravelModel | None = None) -> list[str]:
    """List every way ``plan`` breaks the rules of ``problem``.

    Plan-wide checks: every order appears exactly once (on a route or unassigned, with a known reason code); a
    mandatory order is never unassigned as ``NOT_WORTH_SERVING`` (cost is no reason to leave it out; the fleet,
    its data or the search running out are); both
    orders of a shipment are on the same route, pickup first, or both unassigned; each vehicle drives at most one
    route and belongs to the problem.

    Route checks: the route starts at the vehicle's start depot and ends at its end depot (an empty depot id on the
    route, or ``None`` on the vehicle, is the problem's depot); stops are numbered 1..n, their ``trip`` goes up by
    one after each reload, each reload follows the last stop of its trip and there are at most ``max_reloads``;
    weight, volume and parcels stay within capacity along every trip (a trip's deliveries are on board when it
    leaves the depot, pickups stay on board until the next depot, a shipment's load -- the size of its pickup, as
    the solver plans it -- is on board from its pickup to its delivery, through reloads);
    ``weight_g``/``volume_cm3`` are the route's deliveries outside shipments; service starts within one of the
    order's windows; arrival, service start, departure and wait agree with the legs and service times, reloads last
    at least the depot's ``reload_s`` (1 s tolerance); legs, route distance and duration agree with the travel
    model; the route leaves no earlier than its shift start and the start depot's opening, and is back by the end of
    its shift plus ``max_overtime_s`` and by the end depot's closing, reporting ``overtime_s`` past the earlier of
    the shift end and the closing; ``max_duration_s`` and ``max_distance_m`` hold; a vehicle with a break takes it
    when the route is out during its break window (:meth:`~solver.model.Vehicle.needs_break`), starting within
    that window after the stop it follows, and
    the next leg leaves when the break ends; the vehicle has the skills each order needs; the route cost follows the
    cost model (overtime included); ``in_preferred_window``, when recorded, says truly whether service starts in the
    order's preferred window.

    With a :class:`~solver.timing.TimeDependentTravelModel`, each leg must take
    :meth:`~solver.timing.TimeDependentTravelModel.leg_duration_s` from the previous departure and arrival (and
    the return) follow it exactly, service lasts ``round(service_s * service_factor)``, a reload exactly
    ``reload_s`` and a break starts at ``max(departure of its stop, break_earliest_s)``, possibly after
    ``break_latest_s``; a service start outside every window is allowed only after a window opened, with a
    matching ``late_s`` (:meth:`~solver.model.Order.lateness_s`), and a return after the shift (or the depot's
    closing) with any overtime, 1 s tolerance each; ``max_duration_s`` is not checked there. A flag without
    lateness is a violation too. With any other model ``late_s`` must be 0.

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
        elif (
            u.reason_code == "NOT_WORTH_SERVING" and u.order_id in orders and orders[u.order_id].priority == "mandatory"
        ):
            errors.append(
                f"mandatory order {u.order_id} is unassigned as NOT_WORTH_SERVING; cost is no reason to leave a "
                "mandatory order out"
            )
    errors += _check_shipments(problem, plan)

    loaded_on = problem.on_board_vehicle()
    for route in plan.routes:
        for s in route.stops:
            if loaded_on.get(s.order_id, route.vehicle_id) != route.vehicle_id:
                errors.append(
                    f"order {s.order_id} is on board of vehicle {loaded_on[s.order_id]} but on route {route.route_id}"
                )

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


def _check_shipments(problem: Problem, plan: Plan) -> list[str]:
    """Both ends of each shipment on one route, pickup first, or neither on a route."""
    where = {s.order_id: (r.route_id, s.sequence) for r in plan.routes for s in r.stops}
    ends: dict[str, dict[str, Order]] = {}
    for o in problem.orders:
        if o.shipment_id is not None:
            ends.setdefault(o.shipment_id, {})[o.order_type] = o
    errors = []
    for shipment_id, pair in sorted(ends.items()):
        pickup, delivery = pair["pickup"], pair["delivery"]
        at_pickup, at_delivery = where.get(pickup.order_id), where.get(delivery.order_id)
        what = f"shipment {shipment_id} (pickup {pickup.order_id}, delivery {delivery.order_id})"
        if at_pickup is None and at_delivery is None:
            continue
        if at_pickup is None or at_delivery is None:
            served, route_id = (pickup, at_pickup[0]) if at_pickup else (delivery, at_delivery[0])
            errors.append(
                f"{what} is half planned: only {served.order_id} is on a route ({route_id}); both ends are served "
                "or neither"
            )
        elif at_pickup[0] != at_delivery[0]:
            errors.append(
                f"{what} is split over routes {at_pickup[0]} and {at_delivery[0]}; both ends go on the same route"
            )
        elif at_pickup[1] > at_delivery[1]:
            errors.append(
                f"{what} is delivered at stop {at_delivery[1]} before it is picked up at stop {at_pickup[1]} of "
                f"route {at_pickup[0]}"
            )
    return errors


def _route_depot(problem: Problem, depot_id: str) -> Depot | None:
    """The depot of a route's ``start_depot_id``/``end_depot_id`` ("" for the problem's depot), None if unknown."""
    try:
        return problem.depot_of(depot_id or None)
    except KeyError:
        return None


def _check_route(
    problem: Problem,
    route: PlannedRoute,
    vehicle: Vehicle,
    orders: dict[str, Order],
    travel_model: TravelModel,
) -> list[str]:
    errors: list[str] = []
    rid = f"route {route.route_id}"
    if route.vehicle_type != vehicle.vehicle_type:
        errors.append(
            f"{rid} says vehicle type {route.vehicle_type} but {vehicle.vehicle_id} is a {vehicle.vehicle_type}"
        )
    home = problem.depot.depot_id
    ends: list[Depot] = []
    for end, claimed, expected in (
        ("starts", route.start_depot_id, vehicle.start_depot_id),
        ("ends", route.end_depot_id, vehicle.end_depot_id),
    ):
        if (claimed or home) != (expected or home):
            errors.append(
                f"{rid} {end} at depot {claimed or home}, but vehicle {vehicle.vehicle_id} {end} at depot "
                f"{expected or home}"
            )
        at = _route_depot(problem, claimed)
        if at is None:
            errors.append(f"{rid} {end} at depot {claimed}, which is not in the problem")
        else:
            ends.append(at)
    stops = [s for s in route.stops if s.order_id in orders]
    if len(stops) != len(route.stops) or len(ends) != 2:
        return errors  # unknown orders are reported by the caller; timing cannot be checked without them
    start_depot, end_depot = ends
    if [s.sequence for s in stops] != list(range(1, len(stops) + 1)):
        errors.append(f"{rid} has stop sequence numbers {[s.sequence for s in stops]}, expected 1..{len(stops)}")
    stop_orders = [orders[s.order_id] for s in stops]

    for o in stop_orders:
        missing = o.required_skills - vehicle.skills
        if missing:
            errors.append(
                f"order {o.order_id} needs {' and '.join(sorted(missing))}, which vehicle {vehicle.vehicle_id} lacks"
            )

    trip_errors, trips = _check_trips(rid, route, vehicle, stops)
    errors += trip_errors
    if trips is None:
        return errors  # the path is unclear: loads and times cannot be checked
    errors += _check_loads(problem, rid, route, vehicle, [[orders[s.order_id] for s in trip] for trip in trips])
    errors += _check_on_board(rid, vehicle, trips, orders)

    timed = isinstance(travel_model, TimeDependentTravelModel)
    errors += _Timing(problem, route, vehicle, stops, stop_orders, start_depot, end_depot, travel_model).check()

    earliest = max(vehicle.shift_start_s, start_depot.opens_s)
    if route.start_s < earliest:
        errors.append(
            f"{rid} leaves the depot at {clock(route.start_s)}, before {clock(earliest)} (shift start "
            f"{clock(vehicle.shift_start_s)}, depot {start_depot.depot_id} opens {clock(start_depot.opens_s)})"
        )
    errors += _check_overtime(rid, route, vehicle, end_depot, timed)
    if route.duration_s != route.end_s - route.start_s:
        errors.append(f"{rid} has duration {route.duration_s} s but runs from {route.start_s} s to {route.end_s} s")
    if not timed and vehicle.max_duration_s is not None and route.duration_s > vehicle.max_duration_s:
        errors.append(
            f"{rid} takes {route.duration_s} s, longer than vehicle {vehicle.vehicle_id}'s maximum of "
            f"{vehicle.max_duration_s} s"
        )
    if vehicle.max_distance_m is not None and route.distance_m > vehicle.max_distance_m:
        errors.append(
            f"{rid} drives {route.distance_m} m, farther than vehicle {vehicle.vehicle_id}'s maximum of "
            f"{vehicle.max_distance_m} m"
        )
    expected_cost = route_cost_eur(vehicle, route.distance_m, route.duration_s, route.overtime_s)
    if abs(route.cost_eur - expected_cost) > 1e-6:
        errors.append(f"{rid} costs {route.cost_eur} EUR; the cost model says {expected_cost} EUR")
    return errors


def _check_trips(
    rid: str, route: PlannedRoute, vehicle: Vehicle, stops: list[PlannedStop]
) -> tuple[list[str], list[list[PlannedStop]] | None]:
    """Reloads between trips and the stops' trip numbers; the stops per trip (None when reloads are misplaced)."""
    errors = []
    if len(route.reloads) > vehicle.max_reloads:
        errors.append(
            f"{rid} reloads {len(route.reloads)} times, but vehicle {vehicle.vehicle_id} may reload at most "
            f"{vehicle.max_reloads} times"
        )
    after = [r.after_sequence for r in route.reloads]
    # A vehicle on the road may head for its depot before its first stop (Vehicle.reload_first).
    first = 0 if vehicle.reload_first else 1
    if after != sorted(set(after)) or any(not first <= a < len(stops) for a in after):
        errors.append(
            f"{rid} reloads after stops {after}; a reload comes between two stops (after stop "
            f"{first}..{len(stops) - 1}), at most once there, in route order"
        )
        return errors, None
    trips: list[list[PlannedStop]] = [[]] if 0 not in after else [[], []]
    for k, s in enumerate(stops, start=1):
        trips[-1].append(s)
        if s.trip != len(trips):
            errors.append(
                f"stop {s.sequence} ({s.order_id}) of {rid} is on trip {s.trip}, but it follows "
                f"{len(trips) - 1} reload(s), so it is on trip {len(trips)}"
            )
        if k in after:
            trips.append([])
    return errors, trips


def _check_on_board(rid: str, vehicle: Vehicle, trips: list[list[PlannedStop]], orders: dict[str, Order]) -> list[str]:
    """A vehicle on the road serves no delivery loaded at the depot on its first trip: that needs a reload first.
    What it has on board it serves on any trip (a parcel rides along through a reload)."""
    if vehicle.on_board is None or not trips:
        return []
    errors = []
    for s in trips[0]:
        order = orders[s.order_id]
        loaded_at_depot = order.order_type == "delivery" and order.shipment_id is None
        if loaded_at_depot and s.order_id not in vehicle.on_board:
            errors.append(
                f"stop {s.sequence} ({s.order_id}) of {rid} waits at the depot but is on the first trip of "
                f"{vehicle.vehicle_id}, which is on the road: it needs a reload first"
            )
    return errors


_DIMENSIONS = (
    ("weight", "weight_g", "capacity_weight_g"),
    ("volume", "volume_cm3", "capacity_volume_cm3"),
    ("parcels", "parcels", "capacity_parcels"),
)


def _check_loads(
    problem: Problem, rid: str, route: PlannedRoute, vehicle: Vehicle, trips: list[list[Order]]
) -> list[str]:
    """Peak load per dimension and trip within capacity; reported weight and volume = non-shipment deliveries."""
    shipments = {o.shipment_id: o for o in problem.orders if o.shipment_id and o.order_type == "pickup"}
    errors = []
    for name, size, capacity in _DIMENSIONS:
        cap = getattr(vehicle, capacity)
        peak, peak_trip = 0, 1
        shipped = 0  # load of shipments picked up and not yet delivered: it stays on board through a reload
        for t, trip in enumerate(trips, start=1):
            load = shipped + sum(getattr(o, size) for o in trip if o.order_type == "delivery" and not o.shipment_id)
            if load > peak:
                peak, peak_trip = load, t
            for o in trip:
                if o.shipment_id:
                    # A shipment's load is what its pickup collects, and its delivery hands over.
                    change = getattr(shipments[o.shipment_id], size)
                    change = change if o.order_type == "pickup" else -change
                    shipped += change
                else:
                    change = getattr(o, size) if o.order_type == "pickup" else -getattr(o, size)
                load += change
                if load > peak:
                    peak, peak_trip = load, t
        if cap is not None and peak > cap:
            on_trip = f" on trip {peak_trip}" if len(trips) > 1 else ""
            errors.append(f"{rid} carries up to {peak} ({size}){on_trip} but vehicle {vehicle.vehicle_id} takes {cap}")
        if name == "parcels":
            continue
        delivered = sum(
            getattr(o, size) for trip in trips for o in trip if o.order_type == "delivery" and not o.shipment_id
        )
        reported = getattr(route, size)
        if reported != delivered:
            errors.append(
                f"{rid} reports {name} {reported} ({size}) at departure but its deliveries outside shipments "
                f"total {delivered}"
            )
    return errors


def _check_overtime(rid: str, route: PlannedRoute, vehicle: Vehicle, end_depot: Depot, timed: bool) -> list[str]:
    """overtime_s is the return past min(shift end, closing); without learned times it stays within the limits."""
    errors = []
    latest = min(vehicle.shift_end_s, end_depot.closes_s)
    overtime = max(0, route.end_s - latest)
    limits = f"shift end {clock(vehicle.shift_end_s)}, depot {end_depot.depot_id} closes {clock(end_depot.closes_s)}"
    if not timed:
        allowed = min(vehicle.shift_end_s + vehicle.max_overtime_s, end_depot.closes_s)
        if route.end_s > allowed:
            errors.append(
                f"{rid} returns to the depot at {clock(route.end_s)}, after {clock(allowed)} ({limits}, "
                f"{vehicle.max_overtime_s} s of paid overtime allowed)"
            )
    if abs(route.overtime_s - overtime) <= TOLERANCE_S:
        return errors
    if overtime == 0:
        errors.append(
            f"{rid} reports overtime_s {route.overtime_s} s but is back at {clock(route.end_s)}, by "
            f"{clock(latest)} ({limits}): only time-dependent travel times or paid overtime past the shift make "
            "overtime"
        )
    else:
        errors.append(
            f"{rid} returns to the depot at {clock(route.end_s)}, {overtime} s after {clock(latest)} ({limits}), but "
            f"reports overtime_s {route.overtime_s} s"
        )
    return errors


@dataclass
class _Timing:
    """Walks a route's path (start depot, stops with reloads and a break, end depot) and checks every time."""

    problem: Problem
    route: PlannedRoute
    vehicle: Vehicle
    stops: list[PlannedStop]
    stop_orders: list[Order]
    start_depot: Depot
    end_depot: Depot
    travel_model: TravelModel
    rid: str = field(init=False)
    errors: list[str] = field(init=False, default_factory=list)
    timed: bool = field(init=False)
    leg: Callable[[int, int, int], tuple[int, int]] = field(init=False)
    break_at: int | None = field(init=False)  # the stop the break follows (0: the start depot)
    reload_depot: Depot = field(init=False)
    reload_at: int = field(init=False)  # location of the reload depot in the route's own matrices
    reload_after: dict[int, PlannedReload] = field(init=False)  # the stop a reload follows (0: the start) -> it
    trip_release: list[int] = field(init=False)
    exact_next: bool = field(init=False, default=False)  # the leg after a break leaves exactly when it ends

    def __post_init__(self) -> None:
        self.rid = f"route {self.route.route_id}"
        self.reload_depot = self.problem.reload_depot(self.vehicle)
        self.reload_at = 2 + len(self.stops)
        self.reload_after = {r.after_sequence: r for r in self.route.reloads}
        # When each trip's orders are ready at the depot (Order.release_s): the trip leaves no earlier.
        after = sorted(r.after_sequence for r in self.route.reloads)
        self.trip_release = [0] * (len(after) + 1)
        for k, order in enumerate(self.stop_orders):
            trip = sum(a <= k for a in after)
            self.trip_release[trip] = max(self.trip_release[trip], order.release_s)
        self.timed = isinstance(self.travel_model, TimeDependentTravelModel)
        self.leg = self._legs()
        self.break_at = self._check_break_fields()

    def check(self) -> list[str]:
        route, vehicle = self.route, self.vehicle
        distance = 0
        here, departure = _START, route.start_s
        if route.start_s < self.trip_release[0] - TOLERANCE_S:
            self.errors.append(
                f"{self.rid} leaves the depot at {clock(route.start_s)}, before the orders of its first trip are ready "
                f"there at {clock(self.trip_release[0])}"
            )
        departure = self._break(0, departure)
        here, departure, distance = self._reload(0, here, departure, distance)
        for k, (stop, order) in enumerate(zip(self.stops, self.stop_orders, strict=True)):
            at = f"stop {stop.sequence} ({order.order_id}) of {self.rid}"
            leg_m, drive_s = self.leg(here, 2 + k, departure)
            distance += leg_m
            self._check_leg(at, stop.leg_distance_m, stop.leg_duration_s, leg_m, drive_s)
            self._check_arrival(at, stop.arrival_s, departure, drive_s)
            departure = self._check_service(at, stop, order)
            here = 2 + k
            departure = self._break(stop.sequence, departure)
            here, departure, distance = self._reload(stop.sequence, here, departure, distance)
        leg_m, back_s = self.leg(here, _END, departure)
        distance += leg_m
        if route.end_s < departure + back_s - TOLERANCE_S:
            self.errors.append(
                f"{self.rid} is back at {route.end_s} s, before leaving its last stop ({departure} s) plus "
                f"the {back_s} s drive back"
            )
        elif (self.timed or self.exact_next) and route.end_s > departure + back_s + TOLERANCE_S:
            self.errors.append(
                f"{self.rid} is back at {route.end_s} s; leaving its last stop at {departure} s, the {back_s} s "
                f"drive back arrives at {departure + back_s} s"
            )
        n_legs = len(self.stops) + len(route.reloads) + 1
        if abs(route.distance_m - distance) > TOLERANCE_M * n_legs:
            self.errors.append(f"{self.rid} reports {route.distance_m} m; its legs add up to {distance} m")
        if self.break_at is None and vehicle.needs_break(route.start_s, route.end_s):
            self.errors.append(
                f"{self.rid} runs until {clock(route.end_s)}, past the opening of the break window at "
                f"{clock(vehicle.break_earliest_s)}, but takes no break ({vehicle.break_s} s)"
            )
        return self.errors

    def _legs(self) -> Callable[[int, int, int], tuple[int, int]]:
        """``leg(a, b, depart_s) -> (metres, seconds)`` between two of the route's locations."""
        points = [self.start_depot, self.end_depot, *self.stop_orders, self.reload_depot]
        lat = np.array([p.lat for p in points], dtype=np.float64)
        lon = np.array([p.lon for p in points], dtype=np.float64)
        vehicle = self.vehicle
        m = self.travel_model.matrices(lat, lon, [vehicle.speed_kmh])
        if not self.timed:
            return lambda a, b, _depart_s: (int(m.distance_m[0, a, b]), int(m.duration_s[0, a, b]))
        model: TimeDependentTravelModel = self.travel_model
        zones = model.zone_factors(lat, lon)

        def timed_leg(a: int, b: int, depart_s: int) -> tuple[int, int]:
            metres = int(m.distance_m[0, a, b])
            zone = float(np.sqrt(zones[a] * zones[b]))
            return metres, model.leg_duration_s(metres, vehicle.speed_kmh, depart_s, zone, vehicle.vehicle_id)

        return timed_leg

    def _check_leg(self, at: str, reported_m: int, reported_s: int, leg_m: int, drive_s: int) -> None:
        if abs(reported_m - leg_m) > TOLERANCE_M:
            self.errors.append(f"{at} has a leg of {reported_m} m; the travel model says {leg_m} m")
        if abs(reported_s - drive_s) > TOLERANCE_S:
            self.errors.append(f"{at} has a leg of {reported_s} s; the travel model says {drive_s} s")

    def _check_arrival(self, at: str, arrival_s: int, departure_s: int, drive_s: int) -> None:
        if arrival_s < departure_s + drive_s - TOLERANCE_S:
            self.errors.append(
                f"{at} arrives at {arrival_s} s, before leaving the previous stop ({departure_s} s) plus the "
                f"{drive_s} s drive"
            )
        elif (self.timed or self.exact_next) and arrival_s > departure_s + drive_s + TOLERANCE_S:
            self.errors.append(
                f"{at} arrives at {arrival_s} s; leaving the previous stop at {departure_s} s, the {drive_s} s "
                f"drive arrives at {departure_s + drive_s} s"
            )
        self.exact_next = False

    def _check_service(self, at: str, stop: PlannedStop, order: Order) -> int:
        """Service start, wait, window and departure of a stop; returns the departure."""
        if stop.service_start_s < stop.arrival_s:
            self.errors.append(
                f"{at} starts service at {stop.service_start_s} s, before arriving at {stop.arrival_s} s"
            )
        if stop.wait_s != stop.service_start_s - stop.arrival_s:
            self.errors.append(
                f"{at} waits {stop.wait_s} s but arrives at {stop.arrival_s} s and starts at {stop.service_start_s} s"
            )
        self.errors += _check_window(at, stop.service_start_s, stop.late_s, order, self.timed)
        expected = order.in_preferred_window(stop.service_start_s)
        if stop.in_preferred_window is not None and stop.in_preferred_window != expected:
            self.errors.append(f"{at} says in_preferred_window={stop.in_preferred_window}, but it is {expected}")
        service_s = order.service_s
        if self.timed:
            service_s = round(order.service_s * self.travel_model.service_factor(self.vehicle.vehicle_id))
        if abs(stop.departure_s - (stop.service_start_s + service_s)) > TOLERANCE_S:
            self.errors.append(
                f"{at} departs at {stop.departure_s} s but service of {service_s} s starts at {stop.service_start_s} s"
            )
        return stop.departure_s

    def _reload(self, after: int, here: int, departure: int, distance: int) -> tuple[int, int, int]:
        """The reload after stop ``after`` (0: before the first stop), if the route has one: its leg, arrival and
        load checked; where the vehicle then is, when it leaves and the distance so far."""
        reload = self.reload_after.get(after)
        if reload is None:
            return here, departure, distance
        at = f"the reload after stop {after} of {self.rid}" if after else f"the reload before {self.rid}'s first stop"
        leg_m, drive_s = self.leg(here, self.reload_at, departure)
        self._check_leg(at, reload.leg_distance_m, reload.leg_duration_s, leg_m, drive_s)
        self._check_arrival(at, reload.arrival_s, departure, drive_s)
        trip = sum(r.after_sequence <= after for r in self.route.reloads)
        release = self.trip_release[min(trip, len(self.trip_release) - 1)]
        departure = self._check_reload(at, reload.arrival_s, reload.departure_s, release)
        return self.reload_at, departure, distance + leg_m

    def _check_reload(self, at: str, arrival_s: int, departure_s: int, release_s: int) -> int:
        """A reload of at least the depot's ``reload_s`` (exactly, with a time-dependent model), leaving no earlier
        than ``release_s``, when the next trip's orders are ready; returns the departure."""
        reload_s = self.reload_depot.reload_s
        if departure_s < release_s - TOLERANCE_S:
            self.errors.append(
                f"{at} leaves the depot at {clock(departure_s)}, before the orders of its next trip are ready there "
                f"at {clock(release_s)}"
            )
        elif departure_s < arrival_s + reload_s - TOLERANCE_S:
            self.errors.append(
                f"{at} leaves the depot at {departure_s} s, before the {reload_s} s reload from its arrival at "
                f"{arrival_s} s is done"
            )
        elif self.timed and departure_s > max(arrival_s + reload_s, release_s) + TOLERANCE_S:
            self.errors.append(
                f"{at} leaves the depot at {departure_s} s; arriving at {arrival_s} s, the {reload_s} s reload is "
                f"done at {arrival_s + reload_s} s"
            )
        return departure_s

    def _check_break_fields(self) -> int | None:
        """The stop the break follows (0: the start depot), None without a (usable) break."""
        route, vehicle = self.route, self.vehicle
        after, start = route.break_after_sequence, route.break_start_s
        if after is None and start is None:
            return None
        if after is None or start is None:
            self.errors.append(
                f"{self.rid} has break_after_sequence {after} and break_start_s {start}: a break needs both"
            )
            return None
        if not vehicle.break_s:
            self.errors.append(f"{self.rid} takes a break, but vehicle {vehicle.vehicle_id} has none (break_s 0)")
            return None
        if not 0 <= after <= len(self.stops):
            self.errors.append(
                f"{self.rid} takes its break after stop {after}, but has stops 1..{len(self.stops)} (0: at the depot)"
            )
            return None
        earliest, latest = vehicle.break_earliest_s, vehicle.break_latest_s
        late = start > latest and not self.timed
        if start < earliest or late:
            self.errors.append(
                f"{self.rid} starts its break at {clock(start)}, outside the break window "
                f"{clock(earliest)}-{clock(latest)} of vehicle {vehicle.vehicle_id}"
            )
        return after

    def _break(self, sequence: int, departure_s: int) -> int:
        """The break after stop ``sequence`` (0: the start depot), if it is there; the next leg's departure."""
        if self.break_at != sequence:
            return departure_s
        start = self.route.break_start_s
        where = f"stop {sequence}" if sequence else "the start depot"
        if start < departure_s:
            self.errors.append(
                f"{self.rid} starts its break at {clock(start)} ({start} s), before it leaves {where} at "
                f"{departure_s} s"
            )
        elif self.timed and abs(start - max(departure_s, self.vehicle.break_earliest_s)) > TOLERANCE_S:
            expected = max(departure_s, self.vehicle.break_earliest_s)
            self.errors.append(
                f"{self.rid} starts its break at {start} s; leaving {where} at {departure_s} s, it starts at "
                f"{expected} s"
            )
        self.exact_next = True
        return start + self.vehicle.break_s


def _window_text(order: Order) -> str:
    windows = ", ".join(f"{clock(start)}-{clock(end)}" for start, end in order.windows)
    return f"window {windows}" if len(order.windows) == 1 else f"windows {windows}"


def _check_window(at: str, service_start_s: int, late_s: int, order: Order, timed: bool) -> list[str]:
    """Service starts within one of the order's windows, or (time-dependent model only) after one with late_s."""
    if order.in_window(service_start_s):
        if not late_s:
            return []
        if not timed:
            return [f"{at} reports late_s {late_s} s; only time-dependent travel times make a stop late"]
        return [f"{at} starts service 0 s after its {_window_text(order)} ends but reports late_s {late_s} s"]
    lateness = order.lateness_s(service_start_s)
    if not timed or lateness == 0:
        return [f"{at} starts service at {clock(service_start_s)}, outside its {_window_text(order)}"]
    if abs(late_s - lateness) > TOLERANCE_S:
        return [f"{at} starts service {lateness} s after its {_window_text(order)} ends but reports late_s {late_s} s"]
    return []


def validate_replan(
    problem: Problem,
    plan: Plan,
    state: LiveState,
    config: ReplanConfig | None = None,
    travel_model: TravelModel | None = None,
) -> list[str]:
    """List every way a re-planned day (:func:`solver.replan.replan`) breaks the rules of re-planning.

    Per vehicle: its finished stops open its route unchanged (same orders, order, times and status as in the
    state); the committed stop follows them, with status ``committed``, leaving no earlier than
    ``committed_done_s``; a broken-down vehicle has no stop after its finished ones; the other stops are
    ``planned``. Orders on board of a vehicle on the road are on no other vehicle's new stops. Every order of the
    day that is not cancelled is exactly once among stops that did not fail, or unassigned with a known reason
    code; a cancelled order is on no new stop. The new part of each route -- from where the vehicle starts (its
    committed stop, or its depot) -- is checked as :func:`validate` checks a route against the remaining problem
    (:func:`solver.replan.remaining_problem`): legs, times, windows, release times, capacity with what is on board,
    reloads, breaks, limits. The whole route's duration and cost agree with its start, end and distance.

    Parameters
    ----------
    problem
        The depot's morning problem.
    plan
        The re-planned day.
    state
        The live state it was re-planned from.
    config
        The re-plan config it was made with (retries, recovery); default ``ReplanConfig()``.
    travel_model
        The travel model it was made with; default great-circle with the config's circuity.

    Returns
    -------
    list of str
        One plain sentence per violation; empty when the plan is valid.
    """
    config = config or ReplanConfig()
    travel_model = travel_model or GreatCircleTravelModel(circuity=config.search_config().circuity)
    remaining = remaining_problem(problem, state, config, travel_model)
    rest = remaining.problem
    day = remaining.day_orders
    errors: list[str] = []
    if plan.depot_id != problem.depot.depot_id:
        errors.append(f"plan is for depot {plan.depot_id} but the problem is for depot {problem.depot.depot_id}")
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    new_vehicles = {v.vehicle_id: v for v in rest.vehicles}
    states = {vs.vehicle_id: vs for vs in state.vehicles if vs.vehicle_id in vehicles}
    routes: dict[str, PlannedRoute] = {}
    for route in plan.routes:
        if route.vehicle_id not in vehicles:
            errors.append(f"route {route.route_id} uses vehicle {route.vehicle_id}, which is not at the depot")
        elif route.vehicle_id in routes:
            errors.append(f"vehicle {route.vehicle_id} drives more than one route")
        else:
            routes[route.vehicle_id] = route

    # Orders: each open one exactly once among stops that did not fail, or unassigned.
    counted = Counter(
        [s.order_id for r in plan.routes for s in r.stops if s.status != "failed"]
        + [u.order_id for u in plan.unassigned]
    )
    for order_id in sorted(set(counted) | {s.order_id for r in plan.routes for s in r.stops}):
        if order_id not in day:
            errors.append(f"order {order_id} is in the plan but not among the day's orders")
    for order_id in day:
        if order_id in remaining.cancelled:
            continue
        if counted[order_id] != 1:
            errors.append(
                f"order {order_id} is {counted[order_id]} times on stops that did not fail or unassigned; "
                "every open order is there exactly once"
            )
    for u in plan.unassigned:
        if u.reason_code not in REASON_CODES:
            errors.append(f"order {u.order_id} is unassigned with unknown reason code {u.reason_code!r}")
    new_on = {s.order_id: r.vehicle_id for r in plan.routes for s in r.stops if s.status in ("planned", "committed")}
    for order_id in remaining.cancelled:
        if order_id in new_on:
            errors.append(f"order {order_id} is cancelled but still on route of vehicle {new_on[order_id]}")
    for vid, start in remaining.starts.items():
        for order_id in sorted(start.on_board):
            if new_on.get(order_id, vid) != vid:
                errors.append(
                    f"order {order_id} is on board of vehicle {vid} but planned on vehicle {new_on[order_id]}; parcels "
                    "do not move between vehicles"
                )

    for vid, start in remaining.starts.items():
        route = routes.get(vid)
        vs = states.get(vid)
        done = done_stops(vs, state) if vs is not None else ()
        stops = list(route.stops) if route is not None else []
        rid = f"route {route.route_id}" if route is not None else f"vehicle {vid}"
        if route is None:
            if done:
                errors.append(f"vehicle {vid} finished {len(done)} stops today, but the plan has no route for it")
            continue
        errors += _check_done(rid, done, stops)
        n = len(start.prefix)
        if start.committed is not None:
            c = stops[n - 1] if len(stops) >= n else None
            if c is None or c.order_id != start.committed.order_id or c.status != "committed":
                errors.append(
                    f"{rid} does not continue with its committed stop {start.committed.order_id} after its "
                    f"{len(done)} finished stops"
                )
            elif c.departure_s < start.committed.departure_s - TOLERANCE_S:
                errors.append(
                    f"{rid} leaves its committed stop {c.order_id} at {clock(c.departure_s)}, before service there "
                    f"ends at {clock(start.committed.departure_s)}"
                )
        if [s.sequence for s in stops] != list(range(1, len(stops) + 1)):
            errors.append(f"{rid} has stop sequence numbers {[s.sequence for s in stops]}, expected 1..{len(stops)}")
        future_stops = stops[n:]
        wrong = [s.order_id for s in future_stops if s.status != "planned"]
        if wrong:
            errors.append(f"{rid} has new stops {', '.join(wrong)} whose status is not 'planned'")
        if start.mode == "broken":
            if future_stops:
                errors.append(
                    f"vehicle {vid} broke down at {clock(start.ready_s)} but {rid} has new stops "
                    f"{', '.join(s.order_id for s in future_stops)}"
                )
        elif future_stops and vid in new_vehicles:
            errors += _check_new_part(rest, route, start, new_vehicles[vid], future_stops, travel_model)
        vehicle = vehicles[vid]
        if route.duration_s != route.end_s - route.start_s:
            errors.append(f"{rid} has duration {route.duration_s} s but runs from {route.start_s} s to {route.end_s} s")
        end_depot = _route_depot(problem, route.end_depot_id)
        if end_depot is not None:
            overtime = max(0, route.end_s - min(vehicle.shift_end_s, end_depot.closes_s))
            expected = route_cost_eur(vehicle, route.distance_m, route.duration_s, overtime)
            if abs(route.cost_eur - expected) > 1e-6:
                errors.append(f"{rid} costs {route.cost_eur} EUR; the cost model says {expected} EUR")
    return errors


def _check_done(rid: str, done: tuple[PlannedStop, ...], stops: list[PlannedStop]) -> list[str]:
    """The route opens with the finished stops of the state, unchanged."""
    errors = []
    for k, expected in enumerate(done):
        got = stops[k] if k < len(stops) else None
        fields = ("order_id", "arrival_s", "service_start_s", "departure_s", "status")
        if got is None or any(getattr(got, f) != getattr(expected, f) for f in fields):
            errors.append(
                f"finished stop {k + 1} ({expected.order_id}, {expected.status}) of {rid} was changed or moved; "
                "finished stops stay as they happened"
            )
    return errors


def _check_new_part(
    rest: Problem,
    route: PlannedRoute,
    start: VehicleStart,
    vehicle: Vehicle,
    future_stops: list[PlannedStop],
    travel_model: TravelModel,
) -> list[str]:
    """The route from where the vehicle starts the remaining day, checked as :func:`validate` checks a route."""
    n = len(start.prefix)
    rid = f"route {route.route_id}"
    errors: list[str] = []
    prefix_m = sum(s.leg_distance_m for s in route.stops[:n])
    # A reload right after the finished and committed stops: the join of a vehicle back from the road (``connect``),
    # or the first thing a vehicle on the road does (Vehicle.reload_first), part of its new route.
    reloads = [r for r in route.reloads if r.after_sequence > n or (r.after_sequence == n and not start.connect)]
    connect = next((r for r in route.reloads if r.after_sequence == n), None)
    if start.connect:
        if connect is None or abs(connect.arrival_s - start.connect_arrival_s) > TOLERANCE_S:
            errors.append(
                f"{rid} has nothing left on board after stop {n}, so it reloads at its depot, arriving at "
                f"{clock(start.connect_arrival_s)}, before its new stops"
            )
            return errors
        begin, prefix_m = connect.departure_s, prefix_m + connect.leg_distance_m
    elif start.committed is not None and start.mode == "road":
        begin = route.stops[n - 1].departure_s
    elif n == 0 and start.mode == "depot":
        begin = route.start_s
    else:
        # It leaves for its first new stop, or for its depot first (a reload right after the prefix).
        first = next((r for r in reloads if r.after_sequence == n), None) or future_stops[0]
        begin = first.arrival_s - first.leg_duration_s
        if route.break_after_sequence == n and route.break_start_s is not None:
            begin = min(route.break_start_s, begin - vehicle.break_s)
    base_trip = start.first_trip - 1
    stops = tuple(replace(s, sequence=s.sequence - n, trip=s.trip - base_trip) for s in future_stops)
    by_id = {o.order_id: o for o in rest.orders}
    missing = [s.order_id for s in stops if s.order_id not in by_id]
    if missing:
        return [f"{rid} plans orders that are not open: {', '.join(missing)}"]
    end_depot = rest.end_depot(vehicle)
    overtime = max(0, route.end_s - min(vehicle.shift_end_s, end_depot.closes_s))
    distance = route.distance_m - prefix_m
    loaded = [by_id[s.order_id] for s in stops]
    loaded = [o for o in loaded if o.order_type == "delivery" and o.shipment_id is None]
    break_after = route.break_after_sequence
    future = PlannedRoute(
        route_id=route.route_id,
        vehicle_id=route.vehicle_id,
        vehicle_type=route.vehicle_type,
        stops=stops,
        start_s=begin,
        end_s=route.end_s,
        distance_m=distance,
        duration_s=route.end_s - begin,
        weight_g=sum(o.weight_g for o in loaded),
        volume_cm3=sum(o.volume_cm3 for o in loaded),
        cost_eur=route_cost_eur(vehicle, distance, route.end_s - begin, overtime),
        overtime_s=overtime,
        start_depot_id=rest.start_depot(vehicle).depot_id,
        end_depot_id=end_depot.depot_id,
        reloads=tuple(replace(r, after_sequence=r.after_sequence - n) for r in reloads),
        break_after_sequence=break_after - n if break_after is not None and break_after >= n else None,
        break_start_s=route.break_start_s if break_after is not None and break_after >= n else None,
    )
    return errors + _check_route(rest, future, vehicle, by_id, travel_model)
