"""Time-dependent travel times learned from history, and re-timing of planned routes with them.

:class:`TimeDependentTravelModel` scales each vehicle's planning speed by an hour-of-day factor, a speed-zone
factor and a driver-pace factor fitted from telematics (the fit lives in ``orchestration``; it hands the solver
a ready-made model). The search sees fixed matrices (:meth:`~TimeDependentTravelModel.banded_matrices`, one
expected departure hour per location); :func:`retime_route` then times every planned route exactly, with
speeds that change at each full hour, and flags stops that would miss their window (``late_s``) and routes
that would end after the shift (``overtime_s``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from solver.costs import route_cost_eur
from solver.model import Depot, Order, PlannedReload, PlannedRoute, PlannedStop, Problem
from solver.travel import GreatCircleTravelModel, TravelMatrices, haversine_m

DEFAULT_CELL_DEG = 0.01
"""Side of a speed-zone cell in decimal degrees (about 1.1 km north-south)."""

HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600
REPRESENTATIVE_HOURS = slice(8, 18)
"""Hours whose speed (harmonic mean) stands for the whole day in :meth:`TimeDependentTravelModel.matrices`."""


def zone_cells(lat, lon, cell_deg: float = DEFAULT_CELL_DEG) -> np.ndarray:
    """Speed-zone cell id of each location.

    Parameters
    ----------
    lat, lon
        Decimal degrees; scalars or arrays of the same shape.
    cell_deg
        Side of a cell in decimal degrees. Default :data:`DEFAULT_CELL_DEG`.

    Returns
    -------
    numpy.ndarray
        Object array of str ``f"{floor(lat / cell_deg)}:{floor(lon / cell_deg)}"`` (integers, e.g.
        ``"4716:952"``), shape of ``lat``. The fit in ``orchestration`` uses this same function.
    """
    if not (isinstance(cell_deg, numbers.Real) and math.isfinite(cell_deg) and cell_deg > 0):
        raise ValueError(f"cell_deg must be a positive number, got {cell_deg!r}")
    rows = np.floor(np.asarray(lat, dtype=np.float64) / cell_deg).astype(np.int64)
    cols = np.floor(np.asarray(lon, dtype=np.float64) / cell_deg).astype(np.int64)
    cells = np.empty(rows.shape, dtype=object)
    for index in np.ndindex(rows.shape):
        cells[index] = f"{rows[index]}:{cols[index]}"
    return cells


def _hour(t: float) -> int:
    return int(t // SECONDS_PER_HOUR) % HOURS_PER_DAY


def _factor_pairs(name: str, pairs) -> tuple[tuple[str, float], ...]:
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    result: list[tuple[str, float]] = []
    seen: set[str] = set()
    for item in items:
        if not (isinstance(item, Sequence) and len(item) == 2):
            raise ValueError(f"{name} must hold (id, factor) pairs, got {item!r}")
        key, value = item
        if not isinstance(key, str) or not key:
            raise ValueError(f"{name} ids must be non-empty strings, got {key!r}")
        if key in seen:
            raise ValueError(f"{name} has id {key} twice")
        _check_factor(f"{name} of {key}", value)
        seen.add(key)
        result.append((key, float(value)))
    return tuple(result)


def _check_factor(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")


@dataclass(frozen=True)
class TimeDependentTravelModel:
    """Travel times that depend on the hour of day, the speed zone and the driver.

    A vehicle's speed on a leg is ``speed_kmh * hour_factor[hour] * zone multiplier * vehicle factor``,
    constant within each hour of the day; distances are great-circle times ``circuity``, as in
    :class:`~solver.travel.GreatCircleTravelModel`. It satisfies the :class:`~solver.travel.TravelModel`
    protocol; :func:`solver.solve` recognises it and re-times its routes with :func:`retime_route`.

    Parameters
    ----------
    hour_factor
        24 positive speed multipliers on the vehicle's planning speed, by local hour 0..23 of the service
        date (weekday and weather already folded in).
    circuity
        Road distance over great-circle distance. Default 1.3.
    cell_deg
        Side of a speed-zone cell in decimal degrees (see :func:`zone_cells`). Default 0.01.
    zone_factor
        ``(cell id, speed multiplier)`` pairs (a mapping is accepted); a cell not listed has 1.0. A leg's
        zone multiplier is ``sqrt(zone(from) * zone(to))``.
    vehicle_factor
        ``(vehicle id, pace)`` pairs (a mapping is accepted), > 1 for a faster driver: multiplies the speed
        and divides the service time. A vehicle not listed has 1.0.
    version
        Free text recorded on plans (:attr:`~solver.model.SolveStats.travel_model_version`).

    Raises
    ------
    ValueError
        Unless there are 24 finite positive hour factors, every factor is finite and positive, ids are
        unique non-empty strings, circuity is positive and ``cell_deg > 0``.
    """

    hour_factor: tuple[float, ...]
    circuity: float = 1.3
    cell_deg: float = DEFAULT_CELL_DEG
    zone_factor: tuple[tuple[str, float], ...] = ()
    vehicle_factor: tuple[tuple[str, float], ...] = ()
    version: str = ""
    _zones: dict[str, float] = field(init=False, repr=False, compare=False)
    _paces: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            hours = tuple(self.hour_factor)
        except TypeError:
            hours = ()
        if len(hours) != HOURS_PER_DAY:
            raise ValueError(f"hour_factor must hold {HOURS_PER_DAY} factors (hours 0..23), got {self.hour_factor!r}")
        for h, value in enumerate(hours):
            _check_factor(f"hour_factor of hour {h}", value)
        _check_factor("circuity", self.circuity)
        _check_factor("cell_deg", self.cell_deg)
        if not isinstance(self.version, str):
            raise ValueError(f"version must be a string, got {self.version!r}")
        # Normalised copies (a list or a dict in, tuples out) keep the model hashable and picklable.
        object.__setattr__(self, "hour_factor", tuple(float(f) for f in hours))
        object.__setattr__(self, "zone_factor", _factor_pairs("zone_factor", self.zone_factor))
        object.__setattr__(self, "vehicle_factor", _factor_pairs("vehicle_factor", self.vehicle_factor))
        object.__setattr__(self, "_zones", dict(self.zone_factor))
        object.__setattr__(self, "_paces", dict(self.vehicle_factor))

    @property
    def representative_factor(self) -> float:
        """Harmonic mean of ``hour_factor[8:18]``: the speed multiplier of the working day as a whole."""
        hours = self.hour_factor[REPRESENTATIVE_HOURS]
        return len(hours) / sum(1.0 / f for f in hours)

    def zone_factors(self, lat, lon) -> np.ndarray:
        """Speed multiplier of each location's zone cell (1.0 for a cell without a factor), float64."""
        cells = zone_cells(lat, lon, self.cell_deg)
        return np.array([self._zones.get(c, 1.0) for c in cells.ravel()], dtype=np.float64).reshape(cells.shape)

    def leg_zone_multipliers(self, lat, lon) -> np.ndarray:
        """Zone multiplier ``sqrt(zone(i) * zone(j))`` of every leg between the given locations, shape ``(n, n)``."""
        zones = self.zone_factors(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
        return np.sqrt(np.outer(zones, zones))

    def vehicle_pace(self, vehicle_id: str | None) -> float:
        """Driver pace of a vehicle (1.0 when unknown or ``None``)."""
        return 1.0 if vehicle_id is None else self._paces.get(vehicle_id, 1.0)

    def service_factor(self, vehicle_id: str | None) -> float:
        """Multiplier on planned service times for a vehicle's driver: ``1 / pace``."""
        return 1.0 / self.vehicle_pace(vehicle_id)

    def _durations(
        self, lat: np.ndarray, lon: np.ndarray, speeds_kmh: Sequence[float], row_factor: np.ndarray
    ) -> TravelMatrices:
        base = GreatCircleTravelModel(self.circuity).matrices(lat, lon, speeds_kmh)
        metres = self.circuity * haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        multiplier = self.leg_zone_multipliers(lat, lon) * row_factor[:, None]
        n = lat.shape[0]
        durations = np.empty((len(base.speeds_kmh), n, n), dtype=np.int64)
        for p, speed in enumerate(base.speeds_kmh):
            durations[p] = np.rint(metres * 3.6 / (speed * multiplier)).astype(np.int64)
        return TravelMatrices(distance_m=base.distance_m, duration_s=durations, speeds_kmh=base.speeds_kmh)

    def matrices(self, lat: np.ndarray, lon: np.ndarray, speeds_kmh: Sequence[float]) -> TravelMatrices:
        """Integer matrices at the working day's representative speed, for pre-solve checks and diagnostics.

        Parameters
        ----------
        lat, lon
            Shape ``(n,)``, decimal degrees.
        speeds_kmh
            Distinct positive planning speeds in km/h, one routing profile each.

        Returns
        -------
        TravelMatrices
            ``distance_m`` exactly as :class:`~solver.travel.GreatCircleTravelModel` with this circuity;
            ``duration_s = round(distance / (speed * representative_factor * zone multiplier))``.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        return self._durations(lat, lon, speeds_kmh, np.full(lat.shape[0], self.representative_factor))

    def banded_matrices(
        self, lat: np.ndarray, lon: np.ndarray, speeds_kmh: Sequence[float], depart_s: np.ndarray
    ) -> TravelMatrices:
        """Integer matrices where each row uses the hour of an expected departure from its location.

        Parameters
        ----------
        lat, lon
            Shape ``(n,)``, decimal degrees.
        speeds_kmh
            Distinct positive planning speeds in km/h, one routing profile each.
        depart_s
            Shape ``(n,)``: expected departure from each location, seconds since local midnight.

        Returns
        -------
        TravelMatrices
            As :meth:`matrices`, but row ``i`` uses ``hour_factor[hour(depart_s[i])]`` with
            ``hour(t) = int(t // 3600) % 24`` instead of the representative factor.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        depart_s = np.asarray(depart_s, dtype=np.float64)
        if depart_s.shape != lat.shape:
            raise ValueError(f"depart_s must have one time per location, shape {lat.shape}, got {depart_s.shape}")
        if not np.isfinite(depart_s).all():
            raise ValueError("depart_s must be finite")
        row_factor = np.array([self.hour_factor[_hour(t)] for t in depart_s], dtype=np.float64)
        return self._durations(lat, lon, speeds_kmh, row_factor)

    def leg_duration_s(
        self,
        distance_m: float,
        speed_kmh: float,
        depart_s: float,
        zone_mult: float = 1.0,
        vehicle_id: str | None = None,
    ) -> int:
        """Exact travel time of a leg whose speed changes at every full hour.

        The speed is ``speed_kmh * hour_factor[h] * zone_mult * pace(vehicle_id)`` during hour ``h``; the
        time integrates across hour boundaries (Ichoua, Gendreau and Potvin, 2003), so leaving later never
        arrives earlier (FIFO).

        Parameters
        ----------
        distance_m
            Length of the leg, metres (>= 0).
        speed_kmh
            The vehicle's planning speed, km/h (> 0).
        depart_s
            Departure, seconds since local midnight.
        zone_mult
            The leg's zone multiplier (see :meth:`leg_zone_multipliers`). Default 1.0.
        vehicle_id
            The vehicle, for its driver's pace; ``None`` for pace 1.0.

        Returns
        -------
        int
            Travel time in whole seconds (rounded).
        """
        if not (math.isfinite(distance_m) and distance_m >= 0):
            raise ValueError(f"distance_m must be a finite non-negative number, got {distance_m!r}")
        _check_factor("speed_kmh", speed_kmh)
        _check_factor("zone_mult", zone_mult)
        if not math.isfinite(depart_s):
            raise ValueError(f"depart_s must be finite, got {depart_s!r}")
        base = speed_kmh / 3.6 * zone_mult * self.vehicle_pace(vehicle_id)  # m/s at factor 1
        remaining = float(distance_m)
        # The speed profile repeats daily, so every 24 h window covers the same distance: skip whole days.
        per_day = base * SECONDS_PER_HOUR * sum(self.hour_factor)
        days = math.floor(remaining / per_day)
        if days and remaining - days * per_day <= 0:
            days -= 1
        remaining -= days * per_day
        t = float(depart_s)
        while remaining > 0:
            speed = base * self.hour_factor[_hour(t)]
            boundary = (math.floor(t / SECONDS_PER_HOUR) + 1) * SECONDS_PER_HOUR
            reach = speed * (boundary - t)
            if reach >= remaining:
                t += remaining / speed
                break
            remaining -= reach
            t = boundary
        return round(t - depart_s + days * HOURS_PER_DAY * SECONDS_PER_HOUR)


@dataclass(frozen=True)
class _Schedule:
    """A route's times along its path, as :func:`retime_route` computes them."""

    stops: tuple[PlannedStop, ...]
    reloads: tuple[PlannedReload, ...]
    break_start_s: int | None
    end_s: int
    distance_m: int


def _service_start(order: Order, arrival_s: int, planned_start_s: int) -> int:
    """When service starts on arrival at ``arrival_s``: at once within any of the order's windows; before one,
    at the start of the window the plan chose (the last to open by ``planned_start_s``: the one holding it, or the
    one a plan that had the stop late served it after; with none, the next to open); after the chosen window
    closed, at once (the stop is late) rather than waiting for a later window, as the simulator's drivers do."""
    if order.in_window(arrival_s):
        return arrival_s
    opened = [start for start, _ in order.windows if start <= planned_start_s]
    chosen = [max(opened)] if opened else sorted(start for start, end in order.windows if arrival_s < start <= end)
    return max(arrival_s, chosen[0]) if chosen else arrival_s


def _route_depot(problem: Problem, route: PlannedRoute, depot_id: str) -> Depot:
    try:
        return problem.depot_of(depot_id or None)
    except KeyError:
        raise ValueError(
            f"route {route.route_id} starts or ends at depot {depot_id}, which is not in the problem"
        ) from None


def retime_route(route: PlannedRoute, problem: Problem, model: TimeDependentTravelModel) -> PlannedRoute:
    """Time a planned route exactly with a time-dependent travel model.

    The vehicle leaves its start depot (``route.start_depot_id``; empty for the problem's depot) at
    ``route.start_s``, visits the stops in order, drives to its reload depot
    (:meth:`~solver.model.Problem.reload_depot`) for each reload (``route.reloads``) and ends at its end depot.
    Each leg takes :meth:`~TimeDependentTravelModel.leg_duration_s` from the departure before it. Service starts
    on arrival within any of the order's windows (:attr:`~solver.model.Order.windows`); arriving before one, it
    waits for the window the plan chose (the one holding the stop's planned ``service_start_s``; for a route
    without plausible times, the next window to open); arriving after the chosen window closed, it starts at once
    rather than waiting hours for a later window, and the stop is at risk: its ``late_s`` is
    :meth:`~solver.model.Order.lateness_s`. Service lasts ``round(service_s * service_factor(vehicle))``; a reload
    lasts the reload depot's ``reload_s``, and the next trip leaves no earlier than the latest ``release_s`` of its
    orders.

    The driver's break keeps its position (after stop ``break_after_sequence``, 0 at the start depot) and starts
    at ``max(departure from there, vehicle.break_earliest_s)``; under learned times it may start after
    ``break_latest_s`` (the validator allows that with a time-dependent model only). A route without a break
    that now needs one (:meth:`~solver.model.Vehicle.needs_break`) gets one, at the earliest: after the last
    stop left by then (at the start depot when none was), starting at ``max(that departure, break_earliest_s)``.
    A break on a vehicle without ``break_s`` is dropped. The next leg leaves when the break ends.

    The route's ``overtime_s`` is how far it returns after ``min(shift end, end depot closing)``.

    Parameters
    ----------
    route
        A route of a plan for ``problem`` (its stops' orders, its vehicle and its depots must be in ``problem``).
    problem
        The depot's problem.
    model
        The travel model; legs are great-circle x ``model.circuity``, rounded to whole metres.

    Returns
    -------
    PlannedRoute
        The same route, stop order, reload and break positions with new times, legs, ``trip`` numbers,
        ``late_s``, ``in_preferred_window``, end, duration, distance, cost (overtime included) and ``overtime_s``.

    Raises
    ------
    ValueError
        If the route's vehicle, one of its orders or one of its depots is not in ``problem``, or a reload or the
        break follows a stop the route does not have.
    """
    orders = {o.order_id: o for o in problem.orders}
    vehicle = next((v for v in problem.vehicles if v.vehicle_id == route.vehicle_id), None)
    if vehicle is None:
        raise ValueError(f"route {route.route_id} uses vehicle {route.vehicle_id}, which is not in the problem")
    missing = [s.order_id for s in route.stops if s.order_id not in orders]
    if missing:
        raise ValueError(f"route {route.route_id} serves orders not in the problem: {', '.join(missing)}")
    n = len(route.stops)
    reload_after = [r.after_sequence for r in route.reloads]
    first = 0 if vehicle.reload_first else 1  # a vehicle on the road may head for its depot first
    if reload_after != sorted(set(reload_after)) or any(not first <= a < n for a in reload_after):
        raise ValueError(f"route {route.route_id} reloads after stops {reload_after}, not between two of its {n} stops")
    break_after = route.break_after_sequence if vehicle.break_s else None
    if break_after is not None and not 0 <= break_after <= n:
        raise ValueError(f"route {route.route_id} takes its break after stop {break_after}, but has {n} stops")
    start_depot = _route_depot(problem, route, route.start_depot_id)
    end_depot = _route_depot(problem, route, route.end_depot_id)
    reload_depot = problem.reload_depot(vehicle)
    stop_orders = [orders[s.order_id] for s in route.stops]
    # Locations: 0 the start depot, 1 the end depot, 2 + k stop k, 2 + n the depot where reloads happen.
    points = [start_depot, end_depot, *stop_orders, reload_depot]
    reload_at = 2 + n
    # A trip leaves a reload when its orders are ready at the depot (Order.release_s).
    trip_release = [0] * (len(reload_after) + 1)
    for k, order in enumerate(stop_orders):
        trip = sum(a <= k for a in reload_after)
        trip_release[trip] = max(trip_release[trip], order.release_s)
    lat = np.array([p.lat for p in points], dtype=np.float64)
    lon = np.array([p.lon for p in points], dtype=np.float64)
    zones = model.zone_factors(lat, lon)
    service_factor = model.service_factor(vehicle.vehicle_id)

    def leg(a: int, b: int, depart_s: int) -> tuple[int, int]:
        metres = int(np.rint(model.circuity * haversine_m(lat[a], lon[a], lat[b], lon[b])))
        zone = float(np.sqrt(zones[a] * zones[b]))
        return metres, model.leg_duration_s(metres, vehicle.speed_kmh, depart_s, zone, vehicle.vehicle_id)

    def schedule(break_after: int | None) -> _Schedule:
        t, here, distance, break_start = route.start_s, 0, 0, None

        def take_break(sequence: int, t: int) -> int:
            nonlocal break_start
            if break_after != sequence:
                return t
            break_start = max(t, vehicle.break_earliest_s)
            return break_start + vehicle.break_s

        stops, reloads = [], []

        def reload(after: int, here: int, t: int) -> tuple[int, int]:
            """Back to the reload depot after stop ``after`` (0: before the first) when the route does so; where the
            vehicle then is and when it leaves."""
            nonlocal distance
            if after not in reload_after:
                return here, t
            metres, drive = leg(here, reload_at, t)
            distance += metres
            leave = max(t + drive + reload_depot.reload_s, trip_release[len(reloads) + 1])
            reloads.append(PlannedReload(after, t + drive, leave, metres, drive))
            return reload_at, leave

        t = take_break(0, t)
        here, t = reload(0, here, t)
        for k, (stop, order) in enumerate(zip(route.stops, stop_orders, strict=True)):
            metres, drive = leg(here, 2 + k, t)
            distance += metres
            arrival = t + drive
            start = _service_start(order, arrival, stop.service_start_s)
            t = start + round(order.service_s * service_factor)
            stops.append(
                replace(
                    stop,
                    sequence=k + 1,
                    arrival_s=arrival,
                    service_start_s=start,
                    departure_s=t,
                    wait_s=start - arrival,
                    leg_distance_m=metres,
                    leg_duration_s=drive,
                    late_s=order.lateness_s(start),
                    in_preferred_window=order.in_preferred_window(start),
                    trip=len(reloads) + 1,
                )
            )
            here = 2 + k
            t = take_break(k + 1, t)
            here, t = reload(k + 1, here, t)
        metres, drive = leg(here, 1, t)
        return _Schedule(tuple(stops), tuple(reloads), break_start, t + drive, distance + metres)

    timed = schedule(break_after)
    if break_after is None and vehicle.needs_break(route.start_s, timed.end_s):
        left = [s.sequence for s in timed.stops if s.departure_s <= vehicle.break_earliest_s]
        break_after = left[-1] if left else 0
        timed = schedule(break_after)
    duration = timed.end_s - route.start_s
    overtime = max(0, timed.end_s - min(vehicle.shift_end_s, end_depot.closes_s))
    return replace(
        route,
        stops=timed.stops,
        reloads=timed.reloads,
        break_after_sequence=break_after,
        break_start_s=timed.break_start_s,
        end_s=timed.end_s,
        distance_m=timed.distance_m,
        duration_s=duration,
        cost_eur=route_cost_eur(vehicle, timed.distance_m, duration, overtime),
        overtime_s=overtime,
    )
