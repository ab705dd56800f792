"""Frozen dataclasses passed into and out of the solver.

The solver never opens a database: the planning asset builds a :class:`Problem` per depot and service date
from the ``marts`` tables and stores the returned :class:`Plan` in the ``plans`` tables. All times are integer
seconds since local midnight of the service date, distances metres, weights grams, volumes cubic centimetres.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

ORDER_TYPES = ("delivery", "pickup")
PRIORITIES = ("optional", "normal", "high", "mandatory")
"""Order priorities, lowest first: an optional order is dropped sooner than a normal one, a mandatory one never
unless no route can take it (PyVRP must serve it)."""
STOP_STATUSES = ("planned", "committed", "delivered", "failed")
"""Statuses of a planned stop: a re-planned day keeps its finished stops (delivered, failed) and the committed one."""


def _check_coordinates(what: str, lat: float, lon: float) -> None:
    if not (isinstance(lat, numbers.Real) and isinstance(lon, numbers.Real)):
        raise ValueError(f"{what} has non-numeric coordinates ({lat!r}, {lon!r})")
    if math.isnan(lat) or math.isnan(lon):
        raise ValueError(f"{what} has a missing (NaN) coordinate")
    if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lon <= 180.0):
        raise ValueError(f"{what} has coordinates out of range (lat {lat}, lon {lon})")


def _check_int(what: str, name: str, value: int, minimum: int | None = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} of {what} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} of {what} must be at least {minimum}, got {value}")


def _check_positive_finite(what: str, name: str, value: float, allow_zero: bool = True) -> None:
    if not isinstance(value, numbers.Real) or math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name} of {what} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} of {what} must be {'non-negative' if allow_zero else 'positive'}, got {value}")


@dataclass(frozen=True)
class Depot:
    """A depot: start and end of every route of its vehicles.

    Parameters
    ----------
    depot_id
        Unique depot id, e.g. ``"D-SCHAAN"``.
    lat, lon
        Location in decimal degrees (WGS84).
    opens_s, closes_s
        Gate opening hours in seconds since local midnight; vehicles leave and return within them.
    reload_s
        Time a vehicle spends at the depot to load again between two trips (see
        :attr:`Vehicle.max_reloads`), seconds. Default 0.
    """

    depot_id: str
    lat: float
    lon: float
    opens_s: int
    closes_s: int
    reload_s: int = 0

    def __post_init__(self) -> None:
        what = f"depot {self.depot_id}"
        if not self.depot_id:
            raise ValueError("depot_id must not be empty")
        _check_coordinates(what, self.lat, self.lon)
        _check_int(what, "opens_s", self.opens_s)
        _check_int(what, "closes_s", self.closes_s)
        if self.closes_s < self.opens_s:
            raise ValueError(f"{what} closes ({self.closes_s} s) before it opens ({self.opens_s} s)")
        _check_int(what, "reload_s", self.reload_s)


@dataclass(frozen=True)
class Order:
    """One order to deliver to (or pick up from) a customer on the service date.

    Parameters
    ----------
    order_id
        Unique order id.
    lat, lon
        Customer location in decimal degrees (WGS84).
    weight_g, volume_cm3
        Size of the order in grams and cubic centimetres.
    parcels
        Handling units (parcels, or pallets for a pallet fleet): the third capacity dimension
        (:attr:`Vehicle.capacity_parcels`). Default 1.
    service_s
        Planned time at the stop in seconds.
    tw_start_s, tw_end_s
        Window for the START of service, seconds since local midnight. Any window is accepted here: one
        with ``tw_end_s < tw_start_s`` is reported unassigned as ``INVALID_WINDOW``, one that no shift reaches
        (e.g. negative, on the previous day) as ``WINDOW_UNREACHABLE``.
    extra_windows
        Further windows for the start of service, as ``(start_s, end_s)`` pairs, e.g. a morning and an evening
        slot: the order is served in exactly one of its windows. Default none.
    required_skills
        Skills the vehicle must have, e.g. ``frozenset({"tail_lift"})``. Default none.
    priority
        One of :data:`PRIORITIES`: ``"optional"``, ``"normal"`` (default) and ``"high"`` orders carry rising
        unserved penalties (:class:`SolveConfig`); a ``"mandatory"`` order must be served: the search is not
        allowed to leave it out, so it is only unassigned when no route can take it (with the reason).
    unserved_penalty_eur
        What leaving this order unserved costs, EUR, instead of its priority's penalty. Default ``None``.
    order_type
        ``"delivery"`` (load leaves the depot) or ``"pickup"`` (load returns to the depot). With a
        ``shipment_id``: the two ends of a paired order.
    shipment_id
        Pairs a pickup with a delivery (e.g. a parcel collected from one customer and delivered to another): the
        two orders with this id, one ``"pickup"`` and one ``"delivery"``, go on the same route, pickup first, and
        the load is on board only between them (not loaded at the depot). Both are served or neither. Default none.
    preferred_tw_start_s, preferred_tw_end_s
        Soft preferred window for the start of service (when the customer is most likely in), inside the
        order's window with start before end; both or neither. Default none.
    preferred_bonus_eur
        What serving within the preferred window is worth to the search, EUR (>= 0, default 0): the search
        serves the order outside it only when that saves more than the bonus. Not money: the objective in
        :class:`SolveStats` leaves it out.
    release_s
        When the order is ready at the depot, seconds since local midnight: the trip that carries it leaves the
        depot (or a reload there) no earlier. Default 0 (ready all day). Used by re-planning for a broken-down
        vehicle's parcels.
    current_vehicle_id, move_penalty_eur
        The vehicle the order is planned on now, and what serving it on any other vehicle costs the search, EUR
        (>= 0). Default ``None`` and 0: no preference. Used by re-planning to keep plans stable; not money, the
        objective in :class:`SolveStats` leaves it out.
    """

    order_id: str
    lat: float
    lon: float
    weight_g: int
    volume_cm3: int
    service_s: int
    tw_start_s: int
    tw_end_s: int
    required_skills: frozenset[str] = field(default_factory=frozenset)
    priority: str = "normal"
    order_type: str = "delivery"
    preferred_tw_start_s: int | None = None
    preferred_tw_end_s: int | None = None
    preferred_bonus_eur: float = 0.0
    parcels: int = 1
    extra_windows: tuple[tuple[int, int], ...] = ()
    unserved_penalty_eur: float | None = None
    shipment_id: str | None = None
    release_s: int = 0
    current_vehicle_id: str | None = None
    move_penalty_eur: float = 0.0

    def __post_init__(self) -> None:
        what = f"order {self.order_id}"
        if not self.order_id:
            raise ValueError("order_id must not be empty")
        _check_coordinates(what, self.lat, self.lon)
        _check_int(what, "weight_g", self.weight_g)
        _check_int(what, "volume_cm3", self.volume_cm3)
        _check_int(what, "service_s", self.service_s)
        # Any window is accepted: one that cannot be served becomes unassigned, never an exception.
        _check_int(what, "tw_start_s", self.tw_start_s, minimum=None)
        _check_int(what, "tw_end_s", self.tw_end_s, minimum=None)
        if not isinstance(self.required_skills, frozenset):
            raise ValueError(f"required_skills of {what} must be a frozenset, got {self.required_skills!r}")
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority of {what} must be one of {PRIORITIES}, got {self.priority!r}")
        if self.order_type not in ORDER_TYPES:
            raise ValueError(f"order_type of {what} must be one of {ORDER_TYPES}, got {self.order_type!r}")
        _check_int(what, "parcels", self.parcels)
        if not isinstance(self.extra_windows, tuple):
            raise ValueError(f"extra_windows of {what} must be a tuple of (start_s, end_s) pairs")
        for window in self.extra_windows:
            if not (isinstance(window, tuple) and len(window) == 2):
                raise ValueError(f"extra_windows of {what} must be (start_s, end_s) pairs, got {window!r}")
            _check_int(what, "an extra window's start", window[0], minimum=None)
            _check_int(what, "an extra window's end", window[1], minimum=None)
        if self.unserved_penalty_eur is not None:
            _check_positive_finite(what, "unserved_penalty_eur", self.unserved_penalty_eur)
        if self.shipment_id is not None and not self.shipment_id:
            raise ValueError(f"shipment_id of {what} must not be empty (None for an unpaired order)")
        _check_int(what, "release_s", self.release_s, minimum=None)
        if self.current_vehicle_id is not None and not self.current_vehicle_id:
            raise ValueError(f"current_vehicle_id of {what} must not be empty (None for no current vehicle)")
        _check_positive_finite(what, "move_penalty_eur", self.move_penalty_eur)
        self._check_preferred_window(what)

    def _check_preferred_window(self, what: str) -> None:
        start, end = self.preferred_tw_start_s, self.preferred_tw_end_s
        if (start is None) != (end is None):
            raise ValueError(f"{what} needs both preferred_tw_start_s and preferred_tw_end_s, or neither")
        _check_positive_finite(what, "preferred_bonus_eur", self.preferred_bonus_eur)
        if start is None:
            return
        _check_int(what, "preferred_tw_start_s", start, minimum=None)
        _check_int(what, "preferred_tw_end_s", end, minimum=None)
        if not start < end:
            raise ValueError(f"preferred window of {what} ends ({end} s) before it starts ({start} s)")
        if start < self.tw_start_s or end > self.tw_end_s:
            raise ValueError(
                f"preferred window of {what} ({start}-{end} s) is not inside its window "
                f"({self.tw_start_s}-{self.tw_end_s} s)"
            )

    @property
    def windows(self) -> tuple[tuple[int, int], ...]:
        """All windows for the start of service: ``(tw_start_s, tw_end_s)`` first, then :attr:`extra_windows`."""
        return ((self.tw_start_s, self.tw_end_s), *self.extra_windows)

    def in_window(self, service_start_s: int) -> bool:
        """Whether a service start lies in one of the order's windows (both ends included)."""
        return any(start <= service_start_s <= end for start, end in self.windows)

    def lateness_s(self, service_start_s: int) -> int:
        """Seconds a service start lies after the end of the latest window that opens at or before it (0 when
        it lies within a window; a start before every window counts as in time here, see :meth:`in_window`)."""
        opened = [end for start, end in self.windows if start <= service_start_s]
        return 0 if not opened or self.in_window(service_start_s) else max(0, service_start_s - max(opened))

    @property
    def has_preferred_window(self) -> bool:
        """Whether the order has a preferred window."""
        return self.preferred_tw_start_s is not None

    def in_preferred_window(self, service_start_s: int) -> bool | None:
        """Whether a service start lies in the preferred window (both ends included); ``None`` without one."""
        if self.preferred_tw_start_s is None or self.preferred_tw_end_s is None:
            return None
        return self.preferred_tw_start_s <= service_start_s <= self.preferred_tw_end_s


@dataclass(frozen=True)
class Vehicle:
    """One vehicle available at the depot on the service date.

    Parameters
    ----------
    vehicle_id
        Unique vehicle id, e.g. ``"V-SCH-01"``.
    vehicle_type
        Vehicle type id, e.g. ``"van"``.
    capacity_weight_g, capacity_volume_cm3
        Payload in grams and load volume in cubic centimetres.
    shift_start_s, shift_end_s
        The route leaves the depot at or after ``shift_start_s`` and is back by ``shift_end_s`` (seconds since
        local midnight).
    speed_kmh
        Planning speed on the road in km/h.
    cost_per_km_eur, cost_per_hour_eur, cost_per_day_eur
        Cost per km driven, per hour on route, and fixed per day the vehicle is used, in EUR.
    skills
        Skills of the vehicle, e.g. ``frozenset({"tail_lift"})``. Default none.
    capacity_parcels
        Handling units the vehicle holds (:attr:`Order.parcels`); ``None`` (default) for no limit.
    start_depot_id, end_depot_id
        Where the route starts and ends; ``None`` (default) for the problem's depot. Other depots must be in
        :attr:`Problem.depots`.
    max_duration_s, max_distance_m
        Longest route in seconds (depot departure to return, overtime included) and metres; ``None`` (default)
        for no limit beyond the shift.
    max_overtime_s
        Paid overtime: the route may return up to this long after ``shift_end_s`` (default 0: not at all). A
        vehicle with overtime leaves at the start of its shift, so overtime is time worked beyond the shift.
    overtime_cost_per_hour_eur
        Cost of an hour of overtime on top of ``cost_per_hour_eur``. Default 0.
    break_s
        Length of the driver's break, seconds (default 0: none). A route on the road during the break window
        (:meth:`needs_break`) takes the break, starting between ``break_earliest_s`` and ``break_latest_s``, after
        one of its stops (before driving on); the search reserves the time in the shift.
    break_earliest_s, break_latest_s
        Window for the start of the break, seconds since local midnight; required with ``break_s``.
    max_reloads
        How often the vehicle may return to its start depot (or :attr:`reload_depot_id`) during the route to load
        again (cargo bikes); default 0. Each reload takes :attr:`Depot.reload_s`.
    reload_depot_id
        Where the vehicle reloads; ``None`` (default) for its start depot. A re-planned vehicle on the road starts
        at a depot-like stand-in for where it is and reloads at its own depot.
    on_board
        Orders already loaded (a re-planned vehicle on the road): only this vehicle serves them, on any of its
        trips (a parcel stays in the van through a reload; the trip that delivers it counts its load), and its
        first trip takes no other delivery (those wait at the depot for a reload). ``None`` (default): the vehicle
        starts empty at its depot.
    reload_first
        Whether the route may begin with a reload (default ``False``): a vehicle on the road drives to its reload
        depot with what it carries, loads and sets off on its next trip. Set by the re-plan for a vehicle on the
        road with a finished or committed stop, after which the plan records the reload.
    """

    vehicle_id: str
    vehicle_type: str
    capacity_weight_g: int
    capacity_volume_cm3: int
    shift_start_s: int
    shift_end_s: int
    speed_kmh: float
    cost_per_km_eur: float
    cost_per_hour_eur: float
    cost_per_day_eur: float
    skills: frozenset[str] = field(default_factory=frozenset)
    capacity_parcels: int | None = None
    start_depot_id: str | None = None
    end_depot_id: str | None = None
    max_duration_s: int | None = None
    max_distance_m: int | None = None
    max_overtime_s: int = 0
    overtime_cost_per_hour_eur: float = 0.0
    break_s: int = 0
    break_earliest_s: int | None = None
    break_latest_s: int | None = None
    max_reloads: int = 0
    reload_depot_id: str | None = None
    on_board: frozenset[str] | None = None
    reload_first: bool = False

    def __post_init__(self) -> None:
        what = f"vehicle {self.vehicle_id}"
        if not self.vehicle_id:
            raise ValueError("vehicle_id must not be empty")
        _check_int(what, "capacity_weight_g", self.capacity_weight_g)
        _check_int(what, "capacity_volume_cm3", self.capacity_volume_cm3)
        _check_int(what, "shift_start_s", self.shift_start_s)
        _check_int(what, "shift_end_s", self.shift_end_s)
        if self.shift_end_s < self.shift_start_s:
            raise ValueError(f"{what} ends its shift ({self.shift_end_s} s) before it starts ({self.shift_start_s} s)")
        _check_positive_finite(what, "speed_kmh", self.speed_kmh, allow_zero=False)
        _check_positive_finite(what, "cost_per_km_eur", self.cost_per_km_eur)
        _check_positive_finite(what, "cost_per_hour_eur", self.cost_per_hour_eur)
        _check_positive_finite(what, "cost_per_day_eur", self.cost_per_day_eur)
        if not isinstance(self.skills, frozenset):
            raise ValueError(f"skills of {what} must be a frozenset, got {self.skills!r}")
        for name in ("capacity_parcels", "max_duration_s", "max_distance_m"):
            if getattr(self, name) is not None:
                _check_int(what, name, getattr(self, name))
        for name in ("start_depot_id", "end_depot_id", "reload_depot_id"):
            if getattr(self, name) is not None and not getattr(self, name):
                raise ValueError(f"{name} of {what} must not be empty (None for the problem's depot)")
        _check_int(what, "max_overtime_s", self.max_overtime_s)
        _check_positive_finite(what, "overtime_cost_per_hour_eur", self.overtime_cost_per_hour_eur)
        _check_int(what, "max_reloads", self.max_reloads)
        if self.on_board is not None and not isinstance(self.on_board, frozenset):
            raise ValueError(f"on_board of {what} must be a frozenset of order ids or None, got {self.on_board!r}")
        _check_int(what, "break_s", self.break_s)
        if self.break_s:
            if self.break_earliest_s is None or self.break_latest_s is None:
                raise ValueError(f"{what} has a break of {self.break_s} s but no break window")
            _check_int(what, "break_earliest_s", self.break_earliest_s)
            _check_int(what, "break_latest_s", self.break_latest_s)
            if self.break_latest_s < self.break_earliest_s:
                raise ValueError(f"break window of {what} ends before it starts")

    def needs_break(self, start_s: int, end_s: int) -> bool:
        """Whether a route leaving at ``start_s`` and back at ``end_s`` takes the driver's break: the vehicle has
        one, the route leaves before the break window closes and is still out when it opens. A route that leaves
        after the window closed, or is back before it opens, needs none."""
        return _vehicle_needs_break(self, start_s, end_s)


def _vehicle_needs_break(vehicle: Vehicle, start_s: int, end_s: int) -> bool:
    return bool(vehicle.break_s) and start_s <= vehicle.break_latest_s and end_s > vehicle.break_earliest_s


@dataclass(frozen=True)
class Problem:
    """One depot's routing problem for one service date.

    Parameters
    ----------
    depot
        The depot every route starts and ends at.
    orders
        Orders to plan; ids must be unique.
    vehicles
        Vehicles available at the depot; ids must be unique. May be empty (every order is then unassigned).
    depots
        Other depots where vehicles of this problem start or end (:attr:`Vehicle.start_depot_id`). Default none.

    Raises
    ------
    ValueError
        On duplicate order, vehicle or depot ids, a vehicle at an unknown depot, a shipment id not on exactly one
        pickup and one delivery, or (from the member dataclasses) negative sizes, NaN coordinates and similar bad
        input. An order with an impossible window does not raise.
    """

    depot: Depot
    orders: tuple[Order, ...]
    vehicles: tuple[Vehicle, ...]
    depots: tuple[Depot, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.orders, tuple) or not isinstance(self.vehicles, tuple):
            raise ValueError(f"orders and vehicles of depot {self.depot.depot_id} must be tuples")
        seen: set[str] = set()
        for order in self.orders:
            if order.order_id in seen:
                raise ValueError(f"duplicate order id {order.order_id} at depot {self.depot.depot_id}")
            seen.add(order.order_id)
        seen_orders = seen
        seen = set()
        for vehicle in self.vehicles:
            if vehicle.vehicle_id in seen:
                raise ValueError(f"duplicate vehicle id {vehicle.vehicle_id} at depot {self.depot.depot_id}")
            seen.add(vehicle.vehicle_id)
        if not isinstance(self.depots, tuple):
            raise ValueError(f"depots of the problem of depot {self.depot.depot_id} must be a tuple")
        depot_ids = [d.depot_id for d in self.all_depots]
        if len(set(depot_ids)) != len(depot_ids):
            raise ValueError(f"duplicate depot ids in the problem of depot {self.depot.depot_id}: {depot_ids}")
        for vehicle in self.vehicles:
            for end in (vehicle.start_depot_id, vehicle.end_depot_id, vehicle.reload_depot_id):
                if end is not None and end not in depot_ids:
                    raise ValueError(f"vehicle {vehicle.vehicle_id} starts, ends or reloads at unknown depot {end}")
        loaded_on: dict[str, str] = {}
        for vehicle in self.vehicles:
            for order_id in sorted(vehicle.on_board or ()):
                if order_id not in seen_orders:
                    raise ValueError(f"vehicle {vehicle.vehicle_id} has order {order_id} on board, not in the problem")
                if order_id in loaded_on:
                    raise ValueError(
                        f"order {order_id} is on board of both {loaded_on[order_id]} and {vehicle.vehicle_id}"
                    )
                loaded_on[order_id] = vehicle.vehicle_id
        pairs: dict[str, list[Order]] = {}
        for order in self.orders:
            if order.shipment_id is not None:
                pairs.setdefault(order.shipment_id, []).append(order)
        for shipment_id, ends in pairs.items():
            if sorted(o.order_type for o in ends) != ["delivery", "pickup"]:
                raise ValueError(
                    f"shipment {shipment_id} needs exactly one pickup and one delivery, got "
                    f"{', '.join(f'{o.order_id} ({o.order_type})' for o in ends)}"
                )

    @property
    def all_depots(self) -> tuple[Depot, ...]:
        """The problem's depot first, then :attr:`depots`."""
        return (self.depot, *self.depots)

    def depot_of(self, depot_id: str | None) -> Depot:
        """The depot with this id; ``None`` for the problem's depot."""
        if depot_id is None:
            return self.depot
        for depot in self.all_depots:
            if depot.depot_id == depot_id:
                return depot
        raise KeyError(f"no depot {depot_id} in the problem of depot {self.depot.depot_id}")

    def start_depot(self, vehicle: Vehicle) -> Depot:
        """Where ``vehicle``'s route starts."""
        return self.depot_of(vehicle.start_depot_id)

    def end_depot(self, vehicle: Vehicle) -> Depot:
        """Where ``vehicle``'s route ends."""
        return self.depot_of(vehicle.end_depot_id)

    def reload_depot(self, vehicle: Vehicle) -> Depot:
        """Where ``vehicle`` reloads between trips: :attr:`Vehicle.reload_depot_id`, else its start depot."""
        return self.depot_of(vehicle.reload_depot_id or vehicle.start_depot_id)

    def on_board_vehicle(self) -> dict[str, str]:
        """Order id -> the vehicle it is on board of (:attr:`Vehicle.on_board`), for the orders loaded on one."""
        return {o: v.vehicle_id for v in self.vehicles for o in sorted(v.on_board or ())}

    def depot_location(self, depot_id: str | None) -> int:
        """Index of a depot in the solver's travel matrices.

        Matrices span ``[depot] + orders + depots``: location 0 is the problem's depot, ``i + 1`` is order ``i``
        and ``len(orders) + 1 + j`` is ``depots[j]``. ``None`` means the problem's depot.
        """
        if depot_id is None or depot_id == self.depot.depot_id:
            return 0
        for j, depot in enumerate(self.depots):
            if depot.depot_id == depot_id:
                return len(self.orders) + 1 + j
        raise KeyError(f"no depot {depot_id} in the problem of depot {self.depot.depot_id}")

    def location_coordinates(self) -> tuple[list[float], list[float]]:
        """Latitudes and longitudes of ``[depot] + orders + depots``, the solver's matrix locations."""
        points = [self.depot, *self.orders, *self.depots]
        return [p.lat for p in points], [p.lon for p in points]

    def partner(self, order: Order) -> Order | None:
        """The other end of a paired order (same :attr:`Order.shipment_id`), else ``None``."""
        if order.shipment_id is None:
            return None
        return next(o for o in self.orders if o.shipment_id == order.shipment_id and o is not order)


@dataclass(frozen=True)
class SolveConfig:
    """How to solve: time budget, seed, travel and cost parameters, stopping rule.

    The search stops at the first of: ``no_improvement_iters`` iterations without a better solution,
    ``max_iters`` iterations in total, or ``time_budget_s`` seconds. The first two are deterministic (same
    problem + seed gives the same plan); the time budget is a hard cap that only ends the search on a slow
    machine or a very large instance, and :attr:`SolveStats.stopped_by` says which rule ended it.

    Parameters
    ----------
    time_budget_s
        Hard cap on the search time per depot, seconds. Default 10. PyVRP's construction of the first
        solution comes on top (about 0.3 s at 500 orders, 4 s at 1,700 on the 2-core demo machine).
    seed
        Seed of the solver's random number stream. Default 0.
    circuity
        Road distance over great-circle distance. Default 1.3.
    unserved_penalty_eur
        Cost of leaving a normal-priority order unserved, EUR. Default 1000: an order is only dropped when it
        cannot be served.
    high_priority_penalty_eur
        Cost of leaving a high-priority order unserved, EUR. Default 10000.
    optional_penalty_eur
        Cost of leaving an optional order unserved, EUR. Default 100: served when it costs less than that.
    no_improvement_iters
        Stop after this many iterations without improvement; ``None`` (default) scales with the instance:
        ``max(200, n_orders)``.
    max_iters
        Stop after this many iterations in total; ``None`` (default) scales with the instance:
        ``max(1000, 2 * n_orders)``.
    penalty_update_iters
        Iterations between updates of PyVRP's penalties for load and time-window violations. Default 500
        (PyVRP's default; it planned 500-order depots ~1 % cheaper than 100). Lower values reach a feasible
        solution sooner in short searches on overloaded depots.
    max_depot_distance_m
        Delivery area of a depot: an order farther from its depot than this, in metres of great-circle
        distance (straight line, before circuity), is unassigned as ``OUTSIDE_AREA`` instead of planned.
        Default 50,000 (50 km): more than twice the demo world's extent (no customer of the Liechtenstein or
        Rhine-valley world is more than 21 km from any depot), while a mistyped address in another city
        (Zurich 76 km, Vienna 527 km from Schaan) stays out of the routes. ``None`` for no limit.
    parallel_seeds
        Independent searches with seeds ``seed, seed + 1, ...``, run in parallel processes (one per core); the
        cheapest plan is kept (ties: the lowest seed), so the result stays deterministic. Default 1 (this
        process). The whole solve, process start included, keeps to ``time_budget_s``.
    recombine
        After the search, pick the cheapest plan made of the feasible routes the searches met (set
        partitioning with HiGHS, :mod:`solver.recombine`), started from the best plan found, so it is never
        worse. Default False: on GH200 at 30 s it gave 0.200 % against 0.177 % without it (better on C2 and
        RC2, worse on R1 and RC1, where the fifth of the budget it takes from the search bought nothing), and it
        never changed a plan of the demo-like test depots (docs/benchmarks.md). It gets at most a fifth of the
        time budget, kept back from the search, and a branch-and-bound node limit: like the search's own, only
        its time limit depends on the machine. Not applied with paired pickup-and-delivery orders.
    """

    time_budget_s: float = 10.0
    seed: int = 0
    circuity: float = 1.3
    unserved_penalty_eur: float = 1000.0
    high_priority_penalty_eur: float = 10000.0
    no_improvement_iters: int | None = None
    max_iters: int | None = None
    penalty_update_iters: int = 500
    max_depot_distance_m: int | None = 50_000
    optional_penalty_eur: float = 100.0
    parallel_seeds: int = 1
    recombine: bool = False

    def __post_init__(self) -> None:
        what = "the solve config"
        _check_positive_finite(what, "time_budget_s", self.time_budget_s)
        _check_int(what, "seed", self.seed)
        _check_positive_finite(what, "circuity", self.circuity, allow_zero=False)
        _check_positive_finite(what, "unserved_penalty_eur", self.unserved_penalty_eur)
        _check_positive_finite(what, "high_priority_penalty_eur", self.high_priority_penalty_eur)
        if self.no_improvement_iters is not None:
            _check_int(what, "no_improvement_iters", self.no_improvement_iters, minimum=1)
        if self.max_iters is not None:
            _check_int(what, "max_iters", self.max_iters, minimum=1)
        _check_int(what, "penalty_update_iters", self.penalty_update_iters, minimum=1)
        if self.max_depot_distance_m is not None:
            _check_int(what, "max_depot_distance_m", self.max_depot_distance_m)
        _check_positive_finite(what, "optional_penalty_eur", self.optional_penalty_eur)
        _check_int(what, "parallel_seeds", self.parallel_seeds, minimum=1)


@dataclass(frozen=True)
class PlannedStop:
    """One stop of a planned route (a row of ``plans.stops``).

    Parameters
    ----------
    order_id
        The order served at this stop.
    sequence
        Position on the route, 1-based.
    arrival_s, service_start_s, departure_s
        Arrival at the stop, start and end of service, seconds since local midnight.
    wait_s
        Waiting before service starts (``service_start_s - arrival_s``), seconds.
    leg_distance_m, leg_duration_s
        The leg from the previous stop (or the depot) to this stop.
    late_s
        How far service starts after the order's window ends, seconds; > 0 marks a stop AT RISK of missing its
        window under learned travel times (:func:`solver.timing.retime_route`). Default 0.
    in_preferred_window
        Whether service starts within the order's preferred window; ``None`` (default) for an order without one.
    trip
        Which trip of the route the stop is on, 1-based: a vehicle that reloads at the depot
        (:attr:`Vehicle.max_reloads`) starts trip 2 after the first reload. The leg of the first stop of a
        later trip comes from the depot. Default 1.
    status
        One of :data:`STOP_STATUSES`: ``"planned"`` (default), or in a re-planned day (:mod:`solver.replan`)
        ``"delivered"`` / ``"failed"`` for a finished stop (with its actual times) and ``"committed"`` for the stop
        the vehicle is driving to or serving.
    """

    order_id: str
    sequence: int
    arrival_s: int
    service_start_s: int
    departure_s: int
    wait_s: int
    leg_distance_m: int
    leg_duration_s: int
    late_s: int = 0
    in_preferred_window: bool | None = None
    trip: int = 1
    status: str = "planned"


@dataclass(frozen=True)
class PlannedReload:
    """A return to the start depot between two trips of a route.

    Parameters
    ----------
    after_sequence
        The reload follows this stop (its ``sequence``).
    arrival_s, departure_s
        Arrival at the depot and departure after :attr:`Depot.reload_s`, seconds since local midnight.
    leg_distance_m, leg_duration_s
        The leg from the stop to the depot.
    """

    after_sequence: int
    arrival_s: int
    departure_s: int
    leg_distance_m: int
    leg_duration_s: int


@dataclass(frozen=True)
class PlannedRoute:
    """One vehicle's route (a row of ``plans.routes``).

    Parameters
    ----------
    route_id
        Deterministic id ``f"{depot_id}-{vehicle_id}"``.
    vehicle_id, vehicle_type
        The vehicle driving the route.
    stops
        Stops in visiting order.
    start_s, end_s
        Depot departure and return, seconds since local midnight.
    distance_m
        Total distance including the return leg to the depot, metres.
    duration_s
        ``end_s - start_s``, seconds.
    weight_g, volume_cm3
        Load at depot departure: total weight and volume of the route's deliveries (pickups come on board
        later and never exceed capacity together with what is still on board; the validator checks that).
    cost_eur
        Route cost from :mod:`solver.costs`, EUR.
    overtime_s
        How far the route returns after the end of the vehicle's shift or the depot's closing (the earlier),
        seconds: paid overtime up to :attr:`Vehicle.max_overtime_s`; beyond that only learned travel times
        (:func:`solver.timing.retime_route`) make it, and mark the route at risk. Default 0.
    start_depot_id, end_depot_id
        Where the route starts and ends; empty (default) for the problem's depot.
    reloads
        Returns to the start depot between trips, in route order. Default none.
    break_after_sequence
        The driver's break follows this stop (0: at the start depot before the first leg); ``None`` (default)
        for a route without a break.
    break_start_s
        Start of the break, seconds since local midnight; it lasts the vehicle's ``break_s``. ``None`` without one.
    """

    route_id: str
    vehicle_id: str
    vehicle_type: str
    stops: tuple[PlannedStop, ...]
    start_s: int
    end_s: int
    distance_m: int
    duration_s: int
    weight_g: int
    volume_cm3: int
    cost_eur: float
    overtime_s: int = 0
    start_depot_id: str = ""
    end_depot_id: str = ""
    reloads: tuple[PlannedReload, ...] = ()
    break_after_sequence: int | None = None
    break_start_s: int | None = None


@dataclass(frozen=True)
class Unassigned:
    """An order left out of the plan (a row of ``plans.unassigned``).

    Parameters
    ----------
    order_id
        The order.
    reason_code
        One of :data:`solver.diagnostics.REASON_CODES`.
    reason
        A sentence a dispatcher understands, e.g. "weighs 850 kg; the largest vehicle carries 700 kg".
    """

    order_id: str
    reason_code: str
    reason: str


@dataclass(frozen=True)
class SolveStats:
    """Statistics of one depot's solve (a row of ``plans.solves``).

    Parameters
    ----------
    runtime_s
        Wall time of the whole solve including diagnostics, seconds.
    iterations
        Iterations of PyVRP's search.
    objective
        Route costs plus unserved penalties of all unassigned orders, EUR.
    feasible
        Whether PyVRP's best solution was feasible as found. When False, offending stops were removed and
        reported unassigned, so the plan itself is still valid.
    n_orders, n_vehicles
        Size of the problem.
    stopped_by
        Rule that ended the search: ``"no_improvement"``, ``"max_iters"``, ``"time_budget"``, or
        ``"nothing_to_solve"`` when no order reached the search.
    search_s
        Wall time of PyVRP's search alone (the part the time budget caps), seconds.
    build_s
        Wall time before the search: travel matrices, diagnostics and PyVRP's ``ProblemData``, seconds.
    travel_model_version
        ``version`` of the travel model the plan was made with (the learned
        :class:`~solver.timing.TimeDependentTravelModel`, a road network, a given matrix); empty for the
        great-circle model, which has none.
    """

    runtime_s: float
    iterations: int
    objective: float
    feasible: bool
    n_orders: int
    n_vehicles: int
    stopped_by: str
    search_s: float = 0.0
    build_s: float = 0.0
    travel_model_version: str = ""


@dataclass(frozen=True)
class Plan:
    """The plan of one depot for one service date.

    Parameters
    ----------
    depot_id
        The depot.
    routes
        Non-empty routes, ordered by vehicle id.
    unassigned
        Orders left out, ordered by order id.
    stats
        Solve statistics.
    """

    depot_id: str
    routes: tuple[PlannedRoute, ...]
    unassigned: tuple[Unassigned, ...]
    stats: SolveStats
