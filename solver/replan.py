"""Re-plan one depot's day from the live state (docs/replanning.md, section 3).

The remaining day is a :class:`~solver.model.Problem` solved with :func:`solver.solve.solve`, the same search with
every constraint, diagnostic and re-timing as the morning plan:

- a vehicle that has not left, and one on the road with nothing left on board, starts at its depot (at
  ``max(shift start, as_of)``, or when it is back there);
- a vehicle on the road with parcels on board starts at a depot-like stand-in where its committed stop is, when
  that stop is done (where it is at ``as_of`` without one); its parcels are pinned to it
  (:attr:`~solver.model.Vehicle.on_board`) and it takes orders waiting at the depot only after a reload there;
- a broken-down vehicle gets no route; its parcels wait at its depot until ``broken_down_s + recovery_s``
  (:attr:`~solver.model.Order.release_s`);
- each order costs ``move_penalty_eur`` more on another vehicle than the one it is planned on now
  (:attr:`~solver.model.Order.move_penalty_eur`), and the search starts from the current plan's remaining routes,
  made feasible with the orders they lack inserted cheaply; a search that does worse than that start (fewer
  orders served, fewer on time, later) is not used: the depot keeps the start (:attr:`Replan.kept_current`);
- a failed ``not_home`` delivery is tried again only where that is likely to succeed
  (:attr:`ReplanConfig.retry_min_success`);
- when the depot's vans drove their last legs markedly slower than the travel model says (heavy rain, a jam), the
  rest of the day is planned at that pace (:func:`observed_slowdown`, :attr:`ReplanConfig.pace_window_s`).

The result is a full-day :class:`~solver.model.Plan`: each route starts with its finished stops (actual times,
status ``delivered`` / ``failed``), then the committed stop (``committed``), then the new stops (``planned``).
:func:`solver.validate.validate_replan` checks it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from solver.costs import route_cost_eur, unserved_penalty_eur
from solver.diagnostics import clock
from solver.model import (
    Depot,
    Order,
    Plan,
    PlannedReload,
    PlannedRoute,
    PlannedStop,
    Problem,
    SolveConfig,
    Unassigned,
    Vehicle,
)
from solver.solve import solve_with_start
from solver.travel import GreatCircleTravelModel, TravelModel

DONE_STATUSES = ("delivered", "failed")
ON_THE_ROAD = " on the road"
"""Suffix of the id of the depot-like stand-in a vehicle on the road starts from."""


@dataclass(frozen=True)
class VehicleState:
    """Where one vehicle stands at the time of the live state.

    Parameters
    ----------
    vehicle_id
        The vehicle.
    departed
        Whether it has left its start depot (its parcels are loaded).
    lat, lon
        Last known position, decimal degrees.
    at_s
        Time of that position, seconds since local midnight.
    committed_order_id
        The stop it is driving to or serving: kept first on its route; ``None`` for none.
    committed_done_s
        Expected end of service there (re-timed), seconds since local midnight; ``None`` without a committed stop.
    on_board
        Orders loaded on this vehicle and not delivered yet (the committed one included).
    done
        Finished stops today, in order, with actual times and ``status`` ``"delivered"`` or ``"failed"``.
    broken_down_s
        Out of service from then on; ``None`` (default) for a working vehicle.
    break_taken
        Whether the driver has had the break already. Default ``False``.
    trip
        The trip it is on: its depot departures so far, the committed stop's trip (finished stops carry their own).
        ``None`` (default): unknown, the last finished stop's.
    at_depot
        Back at its start depot since its last departure (default ``False``): what it carried, a failed parcel
        included, can be unloaded there, and its next trip leaves from the depot after a reload.
    """

    vehicle_id: str
    departed: bool
    lat: float
    lon: float
    at_s: int
    committed_order_id: str | None
    committed_done_s: int | None
    on_board: tuple[str, ...]
    done: tuple[PlannedStop, ...]
    broken_down_s: int | None = None
    break_taken: bool = False
    trip: int | None = None
    at_depot: bool = False


@dataclass(frozen=True)
class LiveState:
    """The live state of one depot's day (the orchestration builds one per depot).

    Parameters
    ----------
    service_date
        ``YYYY-MM-DD``.
    as_of_s
        Time of the state, seconds since local midnight.
    vehicles
        State of the depot's vehicles; a vehicle of the problem without one has not left.
    delivered
        Orders delivered today.
    failed
        Order id -> failure reason of its last attempt (e.g. ``"not_home"``, ``"refused"``).
    cancelled
        Orders withdrawn during the day.
    new_orders
        The depot's orders placed since the plan.
    windows
        Changed windows: order id -> ``((start_s, end_s), ...)``, the first window then further ones.
    success_by_hour
        Delivery success (customer at home) of failed orders by hour: order id -> local hour (0-23) -> rate in
        [0, 1], learned by an availability model, else a prior (the orchestration's, by site type). Decides when a
        ``not_home`` failure is tried again (see :attr:`ReplanConfig.retry_min_success`). Default: none.
    """

    service_date: str
    as_of_s: int
    vehicles: tuple[VehicleState, ...]
    delivered: frozenset[str] = frozenset()
    failed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    cancelled: frozenset[str] = frozenset()
    new_orders: tuple[Order, ...] = ()
    windows: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=lambda: MappingProxyType({}))
    success_by_hour: Mapping[str, Mapping[int, float]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ReplanConfig:
    """How to re-plan.

    Parameters
    ----------
    time_budget_s
        Hard cap on one depot's re-plan, seconds. Default 10.
    seed
        Seed of the search. Default 0.
    move_penalty_eur
        What moving a stop to another vehicle must save, EUR. Default 5.
    retry_failed
        Failure reasons whose orders are tried again the same day. Default ``{"not_home"}``.
    retry_after_s
        A retried stop starts no earlier than this long after the failed attempt, seconds. Default 3600.
    retry_min_success
        A failed order is tried again only when that is likely to succeed: with a success rate by hour
        (:attr:`LiveState.success_by_hour`) in the hours where it is at least this, else only in a window of the
        order that opens after the failed attempt (an evening window after a daytime failure). Default 0.5.
        A retry is worth its chance: its unserved penalty is its priority's times the best success rate of the
        hours it may be tried in (times this without a rate), so where the vans cannot take every order, first
        attempts go before retries.
    recovery_s
        A broken-down vehicle's parcels are ready at its depot this long after the breakdown, seconds.
        Default 3600.
    late_margin_s
        An open order that no vehicle can start serving this long before its (last) window closes is at risk: it
        may then be served late, up to the fleet's latest shift end, rather than be left out (a parcel promised
        for today is still worth delivering late); its window stays preferred, worth ``on_time_bonus_eur``, while
        one vehicle alone could still make it. Seconds; default 1800. ``None``: windows stay hard.
    on_time_bonus_eur
        What serving an at-risk order within its window is worth to the search, EUR. Default 50.
    solve_config
        Further settings of the search (unserved penalties, circuity, iteration limits); its time budget and
        seed are replaced by this config's. Default ``None``: :class:`~solver.model.SolveConfig` defaults.
    pace_window_s
        The depot's legs driven in this long before the state's time measure the roads' pace against the travel
        model (:func:`observed_slowdown`); when they were slower than the legs driven earlier that day by more than
        ``pace_tolerance``, the vans' speeds of the rest of the day are divided by that slowdown. Seconds; default
        3600. ``None``: the travel model's speeds as they are.
    pace_tolerance
        The relative slowdown up to which the speeds stay as they are: a leg's pace varies by about 15 % around
        its van's usual one, and the median of an hour's few legs of a small depot reached 1.16 on a dry day.
        Default 0.2.
    service_tolerance
        The day's finished stops measure how long a stop really takes against the orders' service times
        (:func:`observed_service_factor`); when they took longer by more than this share, the open orders' service
        times are multiplied by that factor for the rest of the day. Default 0.1. ``None``: service times as given.
    """

    time_budget_s: float = 10.0
    seed: int = 0
    move_penalty_eur: float = 5.0
    retry_failed: frozenset[str] = frozenset({"not_home"})
    retry_after_s: int = 3600
    retry_min_success: float = 0.5
    recovery_s: int = 3600
    late_margin_s: int | None = 1800
    on_time_bonus_eur: float = 50.0
    solve_config: SolveConfig | None = None
    pace_window_s: int | None = 3600
    pace_tolerance: float = 0.2
    service_tolerance: float | None = 0.1

    def __post_init__(self) -> None:
        if self.service_tolerance is not None and not (self.service_tolerance >= 0):
            raise ValueError(f"service_tolerance must be non-negative, got {self.service_tolerance!r}")
        if not (self.time_budget_s > 0):
            raise ValueError(f"time_budget_s of the re-plan config must be positive, got {self.time_budget_s!r}")
        if not (self.move_penalty_eur >= 0):
            raise ValueError(f"move_penalty_eur must be non-negative, got {self.move_penalty_eur!r}")
        if not (0 <= self.retry_min_success <= 1):
            raise ValueError(f"retry_min_success must be within [0, 1], got {self.retry_min_success!r}")
        if not (self.pace_tolerance >= 0 and np.isfinite(self.pace_tolerance)):
            raise ValueError(f"pace_tolerance must be non-negative, got {self.pace_tolerance!r}")
        window = self.pace_window_s
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window <= 0):
            raise ValueError(f"pace_window_s of the re-plan config must be a positive integer or None, got {window!r}")
        if not (self.on_time_bonus_eur >= 0 and np.isfinite(self.on_time_bonus_eur)):
            raise ValueError(f"on_time_bonus_eur must be non-negative, got {self.on_time_bonus_eur!r}")
        margin = self.late_margin_s
        if margin is not None and (isinstance(margin, bool) or not isinstance(margin, int) or margin < 0):
            raise ValueError(
                f"late_margin_s of the re-plan config must be a non-negative integer or None, got {margin!r}"
            )
        for name in ("retry_after_s", "recovery_s", "seed"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), int):
                raise ValueError(f"{name} of the re-plan config must be an integer, got {getattr(self, name)!r}")
            if getattr(self, name) < 0:
                raise ValueError(f"{name} of the re-plan config must be non-negative, got {getattr(self, name)}")

    def search_config(self) -> SolveConfig:
        """The :class:`~solver.model.SolveConfig` of the search: :attr:`solve_config` with this budget and seed."""
        return replace(self.solve_config or SolveConfig(), time_budget_s=self.time_budget_s, seed=self.seed)


@dataclass(frozen=True)
class Replan:
    """A re-planned day of one depot.

    Parameters
    ----------
    plan
        The full-day plan (finished, committed and new stops; see the module docstring).
    moved
        Orders now on another vehicle than in the current plan, sorted.
    cancelled
        Orders of the day withdrawn (in no route and not unassigned), sorted.
    reasons
        Unassigned reason code -> number of orders.
    kept_current
        Why the plan keeps the current routes instead of the search's (:func:`replan`'s guard): the search's plan
        served fewer of the remaining orders, fewer on time, or was later than the current routes (re-timed from
        the live state, the orders they lack inserted where they cost least); ``None`` (default) when the plan is
        the search's.
    slowdown, service_factor
        The pace and the stop durations the rest of the day was planned at (:attr:`RemainingProblem.slowdown`,
        :attr:`RemainingProblem.service_factor`); 1.0 (default): as the models say.
    """

    plan: Plan
    moved: tuple[str, ...]
    cancelled: tuple[str, ...]
    reasons: Mapping[str, int]
    kept_current: str | None = None
    slowdown: float = 1.0
    service_factor: float = 1.0


@dataclass(frozen=True)
class VehicleStart:
    """How one vehicle enters the remaining day.

    ``mode`` is ``"depot"`` (starts at its depot at ``ready_s``), ``"road"`` (starts at a stand-in depot where its
    committed stop is, with its parcels on board) or ``"broken"`` (no new stops). ``prefix`` holds the finished
    stops and the committed one as they open the full-day route; ``connect`` says a reload at the depot joins the
    prefix to the new stops (a vehicle back from the road), arriving at ``connect_arrival_s`` after a leg of
    ``connect_leg_m`` / ``connect_leg_s``. New stops are on trip ``first_trip`` onwards.
    """

    vehicle_id: str
    mode: str
    ready_s: int
    prefix: tuple[PlannedStop, ...]
    n_done: int
    committed: PlannedStop | None
    on_board: frozenset[str]
    connect: bool
    connect_arrival_s: int
    connect_leg_m: int
    connect_leg_s: int
    first_trip: int


@dataclass(frozen=True)
class RemainingProblem:
    """The rest of the day as the search sees it.

    Parameters
    ----------
    problem
        Open orders (windows changed, retries moved, breakdown parcels released late) and the vehicles from where
        they stand.
    starts
        Vehicle id -> how it enters the remaining day, for every vehicle of the original problem.
    failed
        Orders that failed and are not tried again, unassigned as ``DELIVERY_FAILED``.
    cancelled
        Orders of the day withdrawn, sorted.
    day_orders
        Order id -> order, of every order of the day (morning and new, as they stand now).
    slowdown
        How much slower than the travel model the rest of the day is planned (:func:`observed_slowdown`): the
        vans' speeds are divided by it. 1.0: as the model says.
    service_factor
        How much longer than their service times the open orders' stops are planned
        (:func:`observed_service_factor`). 1.0: as given.
    """

    problem: Problem
    starts: Mapping[str, VehicleStart]
    failed: tuple[Unassigned, ...]
    cancelled: tuple[str, ...]
    day_orders: Mapping[str, Order]
    slowdown: float = 1.0
    service_factor: float = 1.0


def _day_orders(problem: Problem, state: LiveState) -> dict[str, Order]:
    """Order id -> order, of every order of the day: the morning problem's, then the new ones of the live state (the
    first of an id wins)."""
    day = {o.order_id: o for o in problem.orders}
    for o in state.new_orders:
        day.setdefault(o.order_id, o)
    return day


def is_broken(vehicle_state: VehicleState, as_of_s: int) -> bool:
    """Whether the vehicle is out of service at the state's time (or at its last fix, if later)."""
    return vehicle_state.broken_down_s is not None and vehicle_state.broken_down_s <= max(as_of_s, vehicle_state.at_s)


def _done_status(stop: PlannedStop, state: LiveState) -> str:
    if stop.status in DONE_STATUSES:
        return stop.status
    return "failed" if stop.order_id in state.failed else "delivered"


def done_stops(vehicle_state: VehicleState, state: LiveState) -> tuple[PlannedStop, ...]:
    """A vehicle's finished stops as they open its re-planned route: numbered 1.., status delivered / failed."""
    return tuple(
        replace(s, sequence=k, status=_done_status(s, state)) for k, s in enumerate(vehicle_state.done, start=1)
    )


def _with_windows(order: Order, windows: tuple[tuple[int, int], ...]) -> Order:
    """The order with new windows; a preferred window no longer inside the first one is dropped."""
    (start, end), *extra = windows
    changed = dict(tw_start_s=int(start), tw_end_s=int(end), extra_windows=tuple(extra))
    pref_start, pref_end = order.preferred_tw_start_s, order.preferred_tw_end_s
    if pref_start is not None and not (start <= pref_start and pref_end <= end):
        # One replace: the order checks its preferred window against its window as it is built.
        changed.update(preferred_tw_start_s=None, preferred_tw_end_s=None, preferred_bonus_eur=0.0)
    return replace(order, **changed)


def _leg(
    travel_model: TravelModel, a: tuple[float, float], b: tuple[float, float], speed_kmh: float
) -> tuple[int, int]:
    """Metres and seconds from ``a`` to ``b`` (lat, lon) at the travel model's representative speed."""
    m = travel_model.matrices(np.array([a[0], b[0]]), np.array([a[1], b[1]]), [speed_kmh])
    return int(m.distance_m[0, 0, 1]), int(m.duration_s[0, 0, 1])


def earliest_starts_s(orders: list[Order], fleet: Problem, travel_model: TravelModel) -> dict[str, dict[str, int]]:
    """Per order, per vehicle of ``fleet`` that can carry it (skills): the earliest its service could start when
    the vehicle drives there straight from where it enters the day, seconds since local midnight."""
    if not orders or not fleet.vehicles:
        return {o.order_id: {} for o in orders}
    origins = [fleet.start_depot(v) for v in fleet.vehicles]
    lat = np.array([d.lat for d in origins] + [o.lat for o in orders])
    lon = np.array([d.lon for d in origins] + [o.lon for o in orders])
    speeds = sorted({v.speed_kmh for v in fleet.vehicles})
    duration = travel_model.matrices(lat, lon, speeds).duration_s
    n = len(origins)
    earliest: dict[str, dict[str, int]] = {o.order_id: {} for o in orders}
    for k, (v, depot) in enumerate(zip(fleet.vehicles, origins, strict=True)):
        ready = max(v.shift_start_s, depot.opens_s)
        row = duration[speeds.index(v.speed_kmh), k, n:]
        for j, o in enumerate(orders):
            if o.required_skills <= frozenset(v.skills):
                earliest[o.order_id][v.vehicle_id] = max(ready, o.release_s) + int(row[j])
    return earliest


MIN_PACE_LEGS = 3
"""Fewest recent legs a slowdown is measured on (of vans with earlier legs to compare with)."""
MIN_PACE_LEGS_BEFORE = 2
"""A van's recent legs count only when it drove at least this many legs before them."""
MAX_SLOWDOWN = 2.0
"""A measured slowdown is capped at this (a few legs stuck behind an accident do not halve the day's speed)."""
MIN_PACE_LEG_S = 60
"""Legs the model drives in less than this are left out of the pace (parking and a stop's access dominate)."""
MAX_LEG_PACE = 4.0
"""Legs that took more than this many times the model's driving time are left out of the pace: they hold more than
a drive (the driver's break, a return to the depot and a wait there for new orders, a reload), which the live state
does not tell apart. (A van that waited 3 h at its depot for one new order made a 3 h "leg" of 2 km; with a cargo
bike's leg by its depot it was the median of four legs and slowed a whole depot's afternoon by 1.47, and its re-plan
dropped 211 parcels that the next re-plan put back.)"""


def observed_slowdown(
    problem: Problem, state: LiveState, travel_model: TravelModel, config: ReplanConfig | None = None
) -> float:
    """How much slower the depot's vans drive now than the travel model says, relative to earlier in the day.

    Each finished stop reached straight from the previous finished stop of its vehicle is a leg with an actual
    driving time (``leg_duration_s``: arrival less the previous departure) and a model time (the travel model at
    the vehicle's speed); its pace is actual / model. The recent legs are those of the
    :attr:`ReplanConfig.pace_window_s` before the state's time; each is compared with the median pace of its own
    van's earlier legs that day (drivers and districts differ; a van needs :data:`MIN_PACE_LEGS_BEFORE` of them),
    and the slowdown is the median of these over the depot, capped at :data:`MAX_SLOWDOWN`. Legs longer than
    :data:`MAX_LEG_PACE` times the model's time are not drives and count for nothing. Against the day's own
    earlier legs, not the model: a model that is a bit optimistic all day long was the morning plan's too, and is
    no reason to re-plan slower.

    Parameters
    ----------
    problem
        The depot's morning problem (vehicle speeds; orders of the finished stops).
    state
        The live state (finished stops with their actual times).
    travel_model
        The model the re-plan drives on.
    config
        Its ``pace_window_s`` and ``pace_tolerance``; default ``ReplanConfig()``.

    Returns
    -------
    float
        The slowdown when it exceeds ``1 + pace_tolerance`` on at least :data:`MIN_PACE_LEGS` recent legs, else
        1.0 (never a speed-up: the plan keeps the model's speeds when the roads are as fast or faster).
    """
    config = config or ReplanConfig()
    if config.pace_window_s is None:
        return 1.0
    orders = _day_orders(problem, state)
    speeds = {v.vehicle_id: v.speed_kmh for v in problem.vehicles}
    legs: list[tuple[str, int, float, tuple[float, float], tuple[float, float], int]] = []
    for vs in state.vehicles:
        if vs.vehicle_id not in speeds:
            continue
        for before, stop in zip(vs.done, vs.done[1:], strict=False):
            a, b = orders.get(before.order_id), orders.get(stop.order_id)
            if a is None or b is None or stop.leg_duration_s <= 0 or stop.arrival_s > state.as_of_s:
                continue
            legs.append(
                (
                    vs.vehicle_id,
                    stop.arrival_s,
                    speeds[vs.vehicle_id],
                    (a.lat, a.lon),
                    (b.lat, b.lon),
                    stop.leg_duration_s,
                )
            )
    if not legs:
        return 1.0
    lat = np.array([p for leg in legs for p in (leg[3][0], leg[4][0])])
    lon = np.array([p for leg in legs for p in (leg[3][1], leg[4][1])])
    speed_list = sorted({leg[2] for leg in legs})
    duration = travel_model.matrices(lat, lon, speed_list).duration_s
    recent: dict[str, list[float]] = {}
    earlier: dict[str, list[float]] = {}
    since = state.as_of_s - config.pace_window_s
    for k, (vehicle_id, arrival_s, speed, _, _, actual_s) in enumerate(legs):
        model_s = float(duration[speed_list.index(speed), 2 * k, 2 * k + 1])
        if model_s < MIN_PACE_LEG_S or actual_s > MAX_LEG_PACE * model_s:
            continue
        (recent if arrival_s >= since else earlier).setdefault(vehicle_id, []).append(actual_s / model_s)
    # Each van against its own earlier legs (drivers and districts differ), then pooled.
    paces = [
        pace / float(np.median(earlier[vid]))
        for vid, mine in recent.items()
        if len(earlier.get(vid, ())) >= MIN_PACE_LEGS_BEFORE
        for pace in mine
    ]
    if len(paces) < MIN_PACE_LEGS:
        return 1.0
    slowdown = min(MAX_SLOWDOWN, float(np.median(paces)))
    return slowdown if slowdown > 1.0 + config.pace_tolerance else 1.0


MIN_SERVICE_STOPS = 20
"""Fewest finished stops of the day a service factor is measured on."""
MAX_SERVICE_FACTOR = 2.0
"""A measured service factor is capped at this."""


def observed_service_factor(problem: Problem, state: LiveState, config: ReplanConfig | None = None) -> float:
    """How much longer the depot's stops take than the orders' service times say, from the day's finished stops.

    Each finished stop (delivered or failed) took ``departure_s`` less when its service began (:func:`_service_began`:
    a van there before its window waits for it); the factor is their sum over the sum of their orders' service times
    (time adds up: a failed stop, over quicker, is part of what a stop costs the day). A service model that is
    right, or a bit pessimistic, gives about 1. On the first day of an operation (no learned service model yet) the
    demo world's deliveries took 1.58 times their planned service time (median, default scale): re-plans that kept
    the planned times promised the rest of the day more stops than the vans could make, filled the slack with new
    orders fetched from the depot, and left morning orders unattempted.

    Parameters
    ----------
    problem
        The depot's morning problem (service times of its orders).
    state
        The live state (finished stops with their actual times; new orders).
    config
        Its ``service_tolerance``; default ``ReplanConfig()``.

    Returns
    -------
    float
        The factor, capped at :data:`MAX_SERVICE_FACTOR`, when it exceeds ``1 + service_tolerance`` on at least
        :data:`MIN_SERVICE_STOPS` finished stops, else 1.0 (service times are never shortened).
    """
    config = config or ReplanConfig()
    if config.service_tolerance is None:
        return 1.0
    orders = _day_orders(problem, state)
    actual = planned = stops = 0
    for vs in state.vehicles:
        for stop in vs.done:
            order = orders.get(stop.order_id)
            if order is None or order.service_s <= 0 or stop.departure_s > state.as_of_s:
                continue
            windows = state.windows.get(stop.order_id, order.windows)
            actual += max(0, stop.departure_s - _service_began(stop.service_start_s, stop.departure_s, windows))
            planned += order.service_s
            stops += 1
    if stops < MIN_SERVICE_STOPS:
        return 1.0
    factor = min(MAX_SERVICE_FACTOR, actual / planned)
    return factor if factor > 1.0 + config.service_tolerance else 1.0


def _service_began(arrival_s: int, departure_s: int, windows: Sequence[tuple[int, int]]) -> int:
    """When service began at a finished stop: on arrival within a window (or after the last one closed), else when
    the next window opened, as the van waits for it; on arrival when that window opened after the stop ended (a
    van past its window serves at once).

    The driver app reports the arrival and the end of service; counted from the arrival, an idle van sent early to
    an evening window put its 5-hour wait into the day's service time, and the factor of a default-scale day read
    1.67 at noon.
    """
    if any(start <= arrival_s <= end for start, end in windows):
        return arrival_s
    opens = [start for start, _ in windows if arrival_s < start < departure_s]
    return min(opens) if opens else arrival_s


def _from_now(vehicle: Vehicle, ready_s: int, home_s: int) -> Vehicle:
    """The vehicle's shift as it stands at ``ready_s``, when it can next leave: the shift starts then, and past the
    shift's end only the paid overtime left counts (all of it overtime), at least ``home_s`` for the drive back to
    its depot. With none left it takes no stop.

    A shift that starts before ``ready_s`` would plan stops in the past: a van back at its depot at 18:00 after a
    shift ending at 16:00 got trips timed 16:00-17:00, and drove them from 18:00 on, hours past its overtime.
    """
    if ready_s <= vehicle.shift_start_s:
        return vehicle
    if ready_s <= vehicle.shift_end_s:
        return replace(vehicle, shift_start_s=ready_s)
    left = max(home_s, vehicle.shift_end_s + vehicle.max_overtime_s - ready_s)
    return replace(vehicle, shift_start_s=ready_s, shift_end_s=ready_s, max_overtime_s=left)


def _late_when_at_risk(
    orders: list[Order],
    fleet: Problem,
    on_board: Mapping[str, frozenset[str]],
    config: ReplanConfig,
    travel_model: TravelModel,
) -> list[Order]:
    """The orders, those at risk (see :attr:`ReplanConfig.late_margin_s`) with a late window up to the fleet's
    latest shift end and their window as a preferred one while a vehicle could still make it."""
    carrier = {order_id: vid for vid, board in on_board.items() for order_id in board}
    earliest = earliest_starts_s(orders, fleet, travel_model)
    latest_end = max((v.shift_end_s for v in fleet.vehicles), default=0)
    result = []
    for o in orders:
        by_vehicle = earliest[o.order_id]
        if o.order_id in carrier:
            by_vehicle = {carrier[o.order_id]: by_vehicle.get(carrier[o.order_id], latest_end)}
        soonest = min(by_vehicle.values(), default=None)
        start, end = max(o.windows, key=lambda window: window[1])
        if soonest is None or soonest + config.late_margin_s <= end or latest_end <= end or o.shipment_id is not None:
            result.append(o)
            continue
        # One replace: the order checks its preferred window (a learned one may lie in an earlier window) against
        # its window as it is built.
        if soonest <= end and start < end and config.on_time_bonus_eur > 0:
            preferred = dict(
                preferred_tw_start_s=int(start), preferred_tw_end_s=int(end),
                preferred_bonus_eur=config.on_time_bonus_eur,
            )  # fmt: skip
        else:
            preferred = dict(preferred_tw_start_s=None, preferred_tw_end_s=None, preferred_bonus_eur=0.0)
        result.append(replace(o, tw_start_s=int(start), tw_end_s=int(latest_end), extra_windows=(), **preferred))
    return result


def _retry_windows(
    order: Order, failed_s: int, success_by_hour: Mapping[int, float] | None, config: ReplanConfig
) -> tuple[tuple[tuple[int, int], ...], str]:
    """When a failed order may be tried again (see :attr:`ReplanConfig.retry_min_success`): its windows from
    ``retry_after_s`` after the attempt on, narrowed to the hours its success rate is high enough, else those
    that open after the attempt; and why there is none (empty windows).

    A retry later in the window the attempt failed in mostly finds the customer still out (presence goes by the
    hour of the day), and costs a stop's drive and time that other orders then lack.
    """
    earliest = failed_s + config.retry_after_s
    later = tuple((max(a, earliest), b) for a, b in order.windows if max(a, earliest) <= b)
    wait = f"{config.retry_after_s // 60} min"
    if not later:
        return (), f"no window is open {wait} later, at {clock(earliest)}, for another attempt"
    if success_by_hour:
        likely = []
        for a, b in later:
            hours = [
                h
                for h in range(a // 3600, b // 3600 + 1)
                if success_by_hour.get(h % 24, 0.0) >= config.retry_min_success
            ]
            if hours:
                likely.append((max(a, hours[0] * 3600), min(b, hours[-1] * 3600 + 3599)))
        if likely:
            return tuple(likely), ""
        return (), (
            f"the customer's success rate stays under {config.retry_min_success:.0%} in every hour left in its windows"
        )
    fresh = tuple((max(a, earliest), b) for a, b in order.windows if a > failed_s and max(a, earliest) <= b)
    if fresh:
        return fresh, ""
    return (), "no window of the order opens after the attempt, and no success rate says the customer is home"


def _retry_chance(
    windows: tuple[tuple[int, int], ...], success_by_hour: Mapping[int, float] | None, config: ReplanConfig
) -> float:
    """The chance a retry in ``windows`` finds the customer in: the best success rate of their hours, else (no rate
    known) :attr:`ReplanConfig.retry_min_success`; at least 0.01 (a penalty must be positive)."""
    rates = [
        success_by_hour.get(h % 24, 0.0) for a, b in windows for h in range(a // 3600, b // 3600 + 1)
    ] if success_by_hour else []  # fmt: skip
    return max(max(rates, default=config.retry_min_success), 0.01)


def remaining_problem(
    problem: Problem,
    state: LiveState,
    config: ReplanConfig | None = None,
    travel_model: TravelModel | None = None,
    current: Plan | None = None,
) -> RemainingProblem:
    """The rest of the day of one depot, from its live state.

    Parameters
    ----------
    problem
        The depot's morning problem (its orders, vehicles and depots).
    state
        The depot's live state.
    config
        Retry and recovery rules, move penalty; default ``ReplanConfig()``.
    travel_model
        For the drive back to the depot of a vehicle with nothing left on board; default great-circle with the
        search config's circuity.
    current
        The current plan: where each order is planned now (move penalties) and the legs of the committed stops.
        Default ``None`` (no move penalties, committed stops without their leg).

    Returns
    -------
    RemainingProblem
        The problem the search plans, how each vehicle enters it, the failed orders not retried and the
        cancelled ones. Vehicles of the state that are not in ``problem`` are ignored.

    Raises
    ------
    ValueError
        If the state names a vehicle twice.
    """
    config = config or ReplanConfig()
    travel_model = travel_model or GreatCircleTravelModel(circuity=config.search_config().circuity)
    as_of = state.as_of_s
    day = _day_orders(problem, state)
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    states: dict[str, VehicleState] = {}
    for vs in state.vehicles:
        if vs.vehicle_id in states:
            raise ValueError(f"the live state has vehicle {vs.vehicle_id} twice")
        if vs.vehicle_id in vehicles:
            states[vs.vehicle_id] = vs
    planned_on: dict[str, str] = {}
    planned_stop: dict[str, PlannedStop] = {}
    route_start: dict[str, int] = {}
    for route in current.routes if current is not None else ():
        route_start[route.vehicle_id] = route.start_s
        for s in route.stops:
            planned_on[s.order_id] = route.vehicle_id
            planned_stop[s.order_id] = s

    cancelled = tuple(sorted(o for o in day if o in state.cancelled))
    done_ids = {s.order_id for vs in states.values() for s in vs.done}
    finished = set(state.delivered) | {
        s.order_id for vs in states.values() for s in vs.done if _done_status(s, state) == "delivered"
    }
    failed_at: dict[str, int] = {}
    for vs in states.values():
        for s in vs.done:
            if _done_status(s, state) == "failed":
                failed_at[s.order_id] = max(failed_at.get(s.order_id, s.departure_s), s.departure_s)

    # Which vehicles keep their committed stop, and what stays on board.
    starts: dict[str, VehicleStart] = {}
    on_road_board: dict[str, frozenset[str]] = {}
    released: dict[str, int] = {}
    closed = set(cancelled) | finished

    def still_open(order_id: str) -> bool:
        return order_id in day and order_id not in closed and order_id not in state.failed

    committed_of: dict[str, str] = {}
    claimed: dict[str, str] = {}
    # An order two vehicles claim as their committed stop goes to the one done with it first (then by vehicle id):
    # the same choice whatever the current plan, so validate_replan makes it too.
    by_arrival = sorted(states.items(), key=lambda item: (item[1].committed_done_s or 0, item[0]))
    for vid, vs in by_arrival:
        if is_broken(vs, as_of):
            for order_id in vs.on_board:
                released[order_id] = vs.broken_down_s + config.recovery_s
            continue
        c = vs.committed_order_id
        if vs.departed and c is not None and still_open(c) and c not in done_ids and c not in claimed:
            committed_of[vid] = c
            claimed[c] = vid
    committed_ids = set(committed_of.values())

    # Failed orders: retried from retry_after_s after the attempt, or unassigned.
    failed_out: list[Unassigned] = []
    open_orders: list[Order] = []
    for order_id, order in day.items():
        if order_id in closed or order_id in committed_ids:
            continue
        if order_id in state.windows:
            order = _with_windows(order, tuple(state.windows[order_id]))
        if order_id in state.failed:
            reason = state.failed[order_id]
            at = failed_at.get(order_id, as_of)
            if reason not in config.retry_failed:
                failed_out.append(
                    Unassigned(
                        order_id,
                        "DELIVERY_FAILED",
                        f"the delivery failed at {clock(at)} ({reason}); {reason} is not retried the same day",
                    )
                )
                continue
            rates = state.success_by_hour.get(order_id)
            windows, why_not = _retry_windows(order, at, rates, config)
            if not windows:
                failed_out.append(
                    Unassigned(order_id, "DELIVERY_FAILED", f"the delivery failed at {clock(at)} ({reason}); {why_not}")
                )
                continue
            worth = unserved_penalty_eur(order, config.search_config()) * _retry_chance(windows, rates, config)
            order = replace(_with_windows(order, windows), unserved_penalty_eur=worth)
        if order_id in released and order.order_type == "delivery":
            order = replace(order, release_s=max(order.release_s, released[order_id]))
        open_orders.append(order)
    # Stops as long as they take today: longer than the service times say -> the open ones planned longer.
    service_factor = observed_service_factor(problem, state, config)
    if service_factor > 1.0:
        open_orders = [replace(o, service_s=round(o.service_s * service_factor)) for o in open_orders]
    open_ids = {o.order_id for o in open_orders}

    for vid, vs in states.items():
        if vs.departed and not is_broken(vs, as_of):
            # A parcel whose delivery failed on the trip under way is still on the van until it is back at its
            # depot: its retry goes on this trip or, once the van is back, on any van. (Counted as waiting at the
            # depot, it had late-shift vans of a default-scale day drive home at 18:30 to fetch the parcels they
            # carried for their evening retries, then out again: 3-4 trips each, 67% more km than the morning plan.)
            trip = vs.trip or max((s.trip for s in vs.done), default=1)
            # Not once it is back at its depot: there the parcel is unloaded like the rest. (Counted on board, a
            # bike back at its depot with a failed parcel was planned on from there as on the road, its next stops
            # on the finished trip without a reload; the driver set off at once for a 16:00 window and stood at
            # the door from 12:51.)
            failed_here = {
                s.order_id
                for s in vs.done
                if s.trip == trip and _done_status(s, state) == "failed" and failed_at.get(s.order_id) == s.departure_s
            }
            if vs.at_depot:
                failed_here = set()
            board = frozenset(
                o for o in vs.on_board if o in open_ids and o != vs.committed_order_id and o not in state.failed
            ) | frozenset(o for o in failed_here if o in open_ids and o != vs.committed_order_id)
            if board:
                on_road_board[vid] = board
    held = any(
        o.order_type == "delivery"
        and o.shipment_id is None
        and not any(o.order_id in b for b in on_road_board.values())
        for o in open_orders
    )

    # The roads as the vans drive them now: slower than the model (rain, a jam) -> the rest of the day slower.
    slowdown = observed_slowdown(problem, state, travel_model, config)
    new_vehicles: list[Vehicle] = []
    new_depots: list[Depot] = []
    for v in problem.vehicles:
        vid = v.vehicle_id
        vs = states.get(vid)
        done = done_stops(vs, state) if vs is not None else ()
        last_trip = max((s.trip for s in done), default=1)
        if slowdown > 1.0:
            v = replace(v, speed_kmh=round(v.speed_kmh / slowdown, 2))
        speed = v.speed_kmh
        home = problem.start_depot(v)
        if vs is not None and vs.break_taken:
            v = replace(v, break_s=0, break_earliest_s=None, break_latest_s=None)
        if vs is not None and is_broken(vs, as_of):
            starts[vid] = VehicleStart(
                vid, "broken", vs.broken_down_s, done, len(done), None, frozenset(), False, 0, 0, 0, 1
            )
            continue
        committed = None
        point, ready = None, as_of
        if vs is not None and vs.departed:
            point, ready = (vs.lat, vs.lon), max(as_of, vs.at_s)
            c = committed_of.get(vid)
            if c is not None:
                order = day[c]
                done_s = vs.committed_done_s if vs.committed_done_s is not None else max(as_of, vs.at_s)
                begin = done_s - order.service_s
                was = planned_stop.get(c) if planned_on.get(c) == vid else None
                arrival = min(was.arrival_s, begin) if was is not None else begin
                committed = PlannedStop(
                    order_id=c,
                    sequence=len(done) + 1,
                    arrival_s=arrival,
                    service_start_s=begin,
                    departure_s=done_s,
                    wait_s=begin - arrival,
                    leg_distance_m=was.leg_distance_m if was is not None else 0,
                    leg_duration_s=was.leg_duration_s if was is not None else 0,
                    in_preferred_window=order.in_preferred_window(begin),
                    # On the trip the van is on (a reload since its last finished stop starts a new one: counted
                    # on the finished stops' trip, a bike's two trips summed over its capacity in the plan marts);
                    # from the state, not the current plan, as validate_replan rebuilds it.
                    trip=max(last_trip, vs.trip or 0),
                    status="committed",
                )
                last_trip = committed.trip
                point, ready = (order.lat, order.lon), done_s
        prefix = done + ((committed,) if committed is not None else ())
        # Time and distance already spent count against the route's limits.
        spent_m = sum(s.leg_distance_m for s in prefix)
        began = route_start.get(vid, prefix[0].arrival_s - prefix[0].leg_duration_s if prefix else ready)
        board = on_road_board.get(vid)
        if board:
            stand_in = Depot(
                depot_id=f"{vid}{ON_THE_ROAD}",
                lat=point[0],
                lon=point[1],
                opens_s=ready,
                closes_s=max(ready, problem.end_depot(v).closes_s),
            )
            new_depots.append(stand_in)
            left = max(0, v.max_reloads - (last_trip - 1))
            home_s = _leg(travel_model, point, (home.lat, home.lon), speed)[1] if ready > v.shift_end_s else 0
            v = _from_now(v, ready, home_s)
            v = replace(
                v,
                start_depot_id=stand_in.depot_id,
                end_depot_id=problem.end_depot(v).depot_id,
                reload_depot_id=home.depot_id,
                on_board=board,
                max_reloads=max(left, 1) if held else left,
                # It may head home first with what it carries (a parcel for the evening rides along through the
                # reload); the plan records that reload after its last finished or committed stop.
                reload_first=bool(prefix),
            )
            mode, connect, c_arr, c_m, c_s, first_trip = "road", False, 0, 0, 0, last_trip
        else:
            connect, c_arr, c_m, c_s = False, 0, 0, 0
            if point is not None:
                c_m, c_s = _leg(travel_model, point, (home.lat, home.lon), speed)
                ready, c_arr, spent_m = ready + c_s, ready + c_s, spent_m + c_m
                connect = bool(prefix)
            ready = max(ready, v.shift_start_s)
            used = (last_trip - 1) + (1 if connect else 0) if prefix else 0
            v = replace(_from_now(v, ready, 0), max_reloads=max(0, v.max_reloads - used))
            mode, first_trip = "depot", last_trip + (1 if connect else 0)
        if prefix:
            if v.max_duration_s is not None:
                v = replace(v, max_duration_s=max(0, v.max_duration_s - max(0, ready - began)))
            if v.max_distance_m is not None:
                v = replace(v, max_distance_m=max(0, v.max_distance_m - spent_m))
        starts[vid] = VehicleStart(
            vid, mode, ready, prefix, len(done), committed, board or frozenset(), connect, c_arr, c_m, c_s, first_trip
        )
        new_vehicles.append(v)

    if config.late_margin_s is not None:
        fleet = Problem(problem.depot, tuple(open_orders), tuple(new_vehicles), problem.depots + tuple(new_depots))
        open_orders = _late_when_at_risk(open_orders, fleet, on_road_board, config, travel_model)

    # Stability: an order planned on a vehicle that still drives costs more on any other one.
    driving = {v.vehicle_id for v in new_vehicles}
    if config.move_penalty_eur > 0:
        open_orders = [
            replace(o, current_vehicle_id=planned_on[o.order_id], move_penalty_eur=config.move_penalty_eur)
            if planned_on.get(o.order_id) in driving
            else o
            for o in open_orders
        ]
    remaining = Problem(
        depot=problem.depot,
        orders=tuple(open_orders),
        vehicles=tuple(new_vehicles),
        depots=problem.depots + tuple(new_depots),
    )
    return RemainingProblem(
        problem=remaining,
        starts=MappingProxyType(starts),
        failed=tuple(failed_out),
        cancelled=cancelled,
        day_orders=MappingProxyType(day),
        slowdown=slowdown,
        service_factor=service_factor,
    )


def _initial_routes(current: Plan, remaining: RemainingProblem) -> dict[str, list[str | None]]:
    """The current plan's remaining sequences per vehicle (``None`` for a reload), for the warm start."""
    open_ids = {o.order_id for o in remaining.problem.orders}
    carrier = {o: vid for vid, start in remaining.starts.items() for o in start.on_board}
    routes: dict[str, list[str | None]] = {}
    for route in current.routes:
        start = remaining.starts.get(route.vehicle_id)
        if start is None or start.mode == "broken":
            continue
        reload_after = {r.after_sequence for r in route.reloads}
        trips: list[list[str]] = [[]]
        for s in route.stops:
            # A failed stop is history; its retry, when the current plan has one, is a stop of its own. A parcel on
            # board of another vehicle stays with it: the repair of the start puts it on that vehicle's route.
            if (
                s.order_id in open_ids
                and s.status in ("committed", "planned")
                and carrier.get(s.order_id, route.vehicle_id) == route.vehicle_id
            ):
                trips[-1].append(s.order_id)
            if s.sequence in reload_after:
                trips.append([])
        if start.on_board:
            # A van on the road is on the current plan's first trip with a parcel on board (else its first trip).
            # That trip and any before it keep only what is on board; the orders waiting at the depot there (a
            # retried failure, a new order) need a reload and join the next trip. (A retry listed before the
            # current plan's reload, with on-board parcels after it, made the whole start infeasible: the search
            # then ran cold and left 8 evening retries out.) Later trips stay as they were, with the parcels on
            # board a re-plan put there to ride along through a reload.
            under_way = next((k for k, trip in enumerate(trips) if any(x in start.on_board for x in trip)), 0)
            upto = trips[: under_way + 1]
            board = [x for trip in upto for x in trip if x in start.on_board]
            waiting = [x for trip in upto for x in trip if x not in start.on_board]
            later = trips[under_way + 1 :]
            later = [waiting + (later[0] if later else []), *later[1:]]
            trips = [board, *(trip for trip in later if trip)]
        sequence: list[str | None] = list(trips[0])
        for trip in trips[1:]:
            sequence += [None, *trip]
        if any(x is not None for x in sequence):
            routes[route.vehicle_id] = sequence
    return routes


def _full_route(
    problem: Problem,
    vehicle: Vehicle,
    start: VehicleStart,
    future: PlannedRoute | None,
    began_s: int | None,
    day_orders: Mapping[str, Order],
    travel_model: TravelModel,
) -> PlannedRoute | None:
    """The full-day route: finished and committed stops, then the new ones (``future``, the search's route).

    ``vehicle`` is the vehicle of the morning problem; ``began_s`` when the route left its depot in the morning
    (``None``: the first finished stop's arrival less its leg, or the new part's start).
    """
    prefix = list(start.prefix)
    if not prefix and future is None:
        return None
    home, end_depot = problem.start_depot(vehicle), problem.end_depot(vehicle)
    n = len(prefix)
    stops = list(prefix)
    reloads: list[PlannedReload] = []
    distance = sum(s.leg_distance_m for s in prefix)
    break_after, break_start = None, None
    if future is not None:
        if start.committed is not None and start.mode == "road":
            # The vehicle leaves the committed stop when the new part of its route starts.
            stops[-1] = replace(stops[-1], departure_s=future.start_s)
        if start.connect:
            reloads.append(
                PlannedReload(n, start.connect_arrival_s, future.start_s, start.connect_leg_m, start.connect_leg_s)
            )
            distance += start.connect_leg_m
        stops += [
            replace(s, sequence=n + s.sequence, trip=start.first_trip + s.trip - 1, status="planned")
            for s in future.stops
        ]
        reloads += [replace(r, after_sequence=n + r.after_sequence) for r in future.reloads]
        distance += future.distance_m
        if future.break_after_sequence is not None:
            break_after, break_start = n + future.break_after_sequence, future.break_start_s
        end_s = future.end_s
    elif start.mode == "broken":
        end_s = max(prefix[-1].departure_s, start.ready_s)
    else:
        last = day_orders[prefix[-1].order_id]
        leg_m, leg_s = _leg(travel_model, (last.lat, last.lon), (end_depot.lat, end_depot.lon), vehicle.speed_kmh)
        end_s, distance = prefix[-1].departure_s + leg_s, distance + leg_m
    if began_s is None:
        began_s = prefix[0].arrival_s - prefix[0].leg_duration_s if prefix else future.start_s
    start_s = min(began_s, end_s)
    duration = end_s - start_s
    overtime = max(0, end_s - min(vehicle.shift_end_s, end_depot.closes_s))
    # The load at a depot departure: the heaviest trip's deliveries (a day re-planned after a reload carries more
    # than one vanload in total).
    by_trip: dict[int, list[Order]] = {}
    for s in stops:
        order = day_orders[s.order_id]
        if s.status != "failed" and order.order_type == "delivery" and order.shipment_id is None:
            by_trip.setdefault(s.trip, []).append(order)
    weight_g = max((sum(o.weight_g for o in trip) for trip in by_trip.values()), default=0)
    volume_cm3 = max((sum(o.volume_cm3 for o in trip) for trip in by_trip.values()), default=0)
    return PlannedRoute(
        route_id=f"{problem.depot.depot_id}-{vehicle.vehicle_id}",
        vehicle_id=vehicle.vehicle_id,
        vehicle_type=vehicle.vehicle_type,
        stops=tuple(stops),
        start_s=start_s,
        end_s=end_s,
        distance_m=distance,
        duration_s=duration,
        weight_g=weight_g,
        volume_cm3=volume_cm3,
        cost_eur=route_cost_eur(vehicle, distance, duration, overtime),
        overtime_s=overtime,
        start_depot_id=home.depot_id,
        end_depot_id=end_depot.depot_id,
        reloads=tuple(reloads),
        break_after_sequence=break_after,
        break_start_s=break_start,
    )


def replan(
    problem: Problem,
    current: Plan,
    state: LiveState,
    config: ReplanConfig | None = None,
    travel_model: TravelModel | None = None,
) -> Replan:
    """Re-plan one depot's day from its live state.

    Parameters
    ----------
    problem
        The depot's morning problem (orders, vehicles, depots).
    current
        The depot's current plan (the morning plan or the latest re-plan): the move penalty keeps orders on its
        vehicles and its remaining routes warm-start the search.
    state
        The depot's live state (:class:`LiveState`).
    config
        Budget, seed, move penalty, retry and recovery rules; default ``ReplanConfig()``.
    travel_model
        Distances and durations; default great-circle with the search config's circuity. A
        :class:`~solver.timing.TimeDependentTravelModel` re-times the new part of each route exactly.

    Returns
    -------
    Replan
        The full-day plan (it passes :func:`solver.validate.validate_replan` with the same state, config and
        travel model), the orders that moved vehicle, the cancelled ones and the unassigned reasons counted.
        The same inputs and seed give the same plan unless the search hit the time budget
        (``plan.stats.stopped_by == "time_budget"``). The search starts from the current routes made feasible, the
        orders they lack inserted cheaply; when its day serves fewer of the remaining orders, fewer on time, or
        as many but later in total than that start, the start is kept instead (``kept_current`` says why,
        ``plan.stats.stopped_by == "kept_current_routes"``).

    Raises
    ------
    ValueError
        If ``current`` is for another depot, or the state names a vehicle twice.
    """
    started = time.monotonic()
    config = config or ReplanConfig()
    if current.depot_id != problem.depot.depot_id:
        raise ValueError(f"the current plan is for depot {current.depot_id}, the problem for {problem.depot.depot_id}")
    search = config.search_config()
    travel_model = travel_model or GreatCircleTravelModel(circuity=search.circuity)
    remaining = remaining_problem(problem, state, config, travel_model, current)
    budget = max(0.01, config.time_budget_s - (time.monotonic() - started))
    solved, start = solve_with_start(
        remaining.problem,
        replace(search, time_budget_s=budget),
        travel_model,
        initial_routes=_initial_routes(current, remaining),
    )
    result = _assembled(problem, current, remaining, solved, travel_model)
    if start is None:
        return result
    kept = _assembled(problem, current, remaining, start, travel_model)
    why = _worse_than(_Score.of(result.plan, remaining, state), _Score.of(kept.plan, remaining, state))
    if why is None:
        return result
    stats = replace(
        kept.plan.stats,
        stopped_by="kept_current_routes",
        iterations=solved.stats.iterations,
        search_s=solved.stats.search_s,
        runtime_s=solved.stats.runtime_s,
    )
    return replace(kept, plan=replace(kept.plan, stats=stats), kept_current=why)


@dataclass(frozen=True)
class _Score:
    """What a re-planned day of one depot achieves from the live state on: its new stops (committed and planned)
    served, served within a window in force, and their lateness past the windows in total (seconds)."""

    served: int
    on_time: int
    late_s: int

    @classmethod
    def of(cls, plan: Plan, remaining: RemainingProblem, state: LiveState) -> _Score:
        served = on_time = late_s = 0
        for route in plan.routes:
            for stop in route.stops:
                if stop.status not in ("committed", "planned"):
                    continue
                order = remaining.day_orders[stop.order_id]
                if stop.order_id in state.windows:
                    order = _with_windows(order, tuple(state.windows[stop.order_id]))
                late = order.lateness_s(stop.service_start_s) + stop.late_s
                served += 1
                on_time += late == 0
                late_s += late
        return cls(served, on_time, late_s)


def _worse_than(searched: _Score, current: _Score) -> str | None:
    """Why the search's day is worse than keeping the current routes (``None`` when it is not): it serves fewer
    of the remaining orders, fewer of them on time, or as many both ways but later in total."""
    if searched.served < current.served:
        return (
            f"the re-plan served {searched.served} of the remaining orders, the current routes {current.served}: "
            "kept the current routes"
        )
    if searched.on_time < current.on_time:
        return (
            f"the re-plan served {searched.on_time} of the remaining orders on time, the current routes "
            f"{current.on_time}: kept the current routes"
        )
    if (searched.served, searched.on_time) == (current.served, current.on_time) and searched.late_s > current.late_s:
        return (
            f"the re-plan was {searched.late_s // 60} min late in total, the current routes {current.late_s // 60} "
            "min: kept the current routes"
        )
    return None


def _assembled(
    problem: Problem, current: Plan, remaining: RemainingProblem, solved: Plan, travel_model: TravelModel
) -> Replan:
    """The full-day re-plan from a plan of the remaining problem (finished and committed stops first)."""
    future = {r.vehicle_id: r for r in solved.routes}
    began = {r.vehicle_id: r.start_s for r in current.routes}
    routes = []
    for vehicle in problem.vehicles:
        start = remaining.starts[vehicle.vehicle_id]
        departed = bool(start.prefix) or start.mode == "road"
        route = _full_route(
            problem,
            vehicle,
            start,
            future.get(vehicle.vehicle_id),
            began.get(vehicle.vehicle_id) if departed else None,
            remaining.day_orders,
            travel_model,
        )
        if route is not None:
            routes.append(route)
    routes.sort(key=lambda r: r.vehicle_id)
    position = {order_id: k for k, order_id in enumerate(remaining.day_orders)}
    unassigned = sorted((*solved.unassigned, *remaining.failed), key=lambda u: position[u.order_id])
    plan = Plan(depot_id=problem.depot.depot_id, routes=tuple(routes), unassigned=tuple(unassigned), stats=solved.stats)
    was_on = {s.order_id: r.vehicle_id for r in current.routes for s in r.stops}
    moved = sorted(
        s.order_id
        for r in solved.routes
        for s in r.stops
        if s.order_id in was_on and was_on[s.order_id] != r.vehicle_id
    )
    return Replan(
        plan=plan,
        moved=tuple(moved),
        cancelled=remaining.cancelled,
        reasons=MappingProxyType(dict(sorted(Counter(u.reason_code for u in unassigned).items()))),
        slowdown=remaining.slowdown,
        service_factor=remaining.service_factor,
    )
