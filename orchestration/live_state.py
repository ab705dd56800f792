"""The live state of a service date (issue 7, docs/replanning.md sections 2, 3 and 6).

The dbt live models (``intermediate.int_live_*``, views) say what the drops of the day show: where each vehicle
was last seen, which orders were delivered or failed, which were cancelled, changed or placed during the day. They
read the DuckDB variable ``live_as_of_s`` (local seconds since midnight) when it is set, so the state can be taken
at any instant of the day (:func:`live_models_as_of`). This module puts that next to the date's current plan:

- per vehicle: its position, its committed stop (the stop it is serving, else the first stop of its route not yet
  delivered or failed), what is on board, and the ETA of every remaining stop re-timed from where it is with the
  plan's travel model (:func:`solver.timing.retime_route`);
- :func:`compute_live_state` / :func:`write_live_state`: the tables ``plans.live_vehicles`` and
  ``plans.live_stops`` (one state per date; a new one replaces it) for the delay sensor and the app;
- :func:`read_live_state` (:func:`read_live_states` for several depots at once): the re-planner's input,
  :class:`solver.replan.LiveState`.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd

from orchestration.learning import WEATHER_PRIOR_VERSION
from orchestration.model_store import newest_version_before, read_version_table
from orchestration.plan_store import CURRENT_PLAN_KINDS, current_plan_id, read_plan
from orchestration.planning_inputs import prepare_problems
from solver import Depot, Order, PlannedRoute, PlannedStop, Problem, SolveConfig, Vehicle
from solver.timing import TimeDependentTravelModel, retime_route
from solver.travel import haversine_m

VEHICLE_STATUSES = ("not_started", "driving", "at_stop", "at_depot", "broken_down", "finished")
STOP_STATUSES = ("delivered", "failed", "committed", "planned", "unassigned", "cancelled")
LIVE_POSITION_ID = "~live-position"
"""Depot id of the pseudo depot a vehicle's remaining stops are re-timed from (its last known position)."""
SECONDS_PER_DAY = 86_400
_AS_OF = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")

LIVE_STATE_DDL = (
    "create schema if not exists plans",
    """create table if not exists plans.live_vehicles (
        service_date date not null, as_of_s integer not null, plan_id varchar, depot_id varchar,
        vehicle_id varchar not null, lat double, lon double, fix_at_utc timestamptz, status varchar not null,
        stops_done integer, stops_failed integer, stops_remaining integer, next_order_id varchar, next_eta_s integer,
        late_stops integer, late_s_total integer, computed_at_utc timestamptz)""",
    """create table if not exists plans.live_stops (
        service_date date not null, as_of_s integer not null, plan_id varchar, depot_id varchar, vehicle_id varchar,
        sequence integer, order_id varchar not null, lat double, lon double, status varchar not null,
        morning_eta_s integer, eta_s integer, tw_start_s integer, tw_end_s integer, late_s integer, at_risk boolean,
        moved boolean, previous_vehicle_id varchar, eta_change_s integer)""",
)
LIVE_VEHICLE_COLUMNS = (
    "service_date", "as_of_s", "plan_id", "depot_id", "vehicle_id", "lat", "lon", "fix_at_utc", "status",
    "stops_done", "stops_failed", "stops_remaining", "next_order_id", "next_eta_s", "late_stops", "late_s_total",
    "computed_at_utc",
)  # fmt: skip
LIVE_STOP_COLUMNS = (
    "service_date", "as_of_s", "plan_id", "depot_id", "vehicle_id", "sequence", "order_id", "lat", "lon", "status",
    "morning_eta_s", "eta_s", "tw_start_s", "tw_end_s", "late_s", "at_risk", "moved", "previous_vehicle_id",
    "eta_change_s",
)  # fmt: skip


def parse_as_of(text: str) -> int:
    """Local time of day ``HH:MM`` or ``HH:MM:SS`` -> seconds since local midnight.

    Raises
    ------
    ValueError
        If the text is not such a time.
    """
    match = _AS_OF.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"as_of must be a local time HH:MM or HH:MM:SS, got {text!r}")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def ensure_live_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create ``plans.live_vehicles`` and ``plans.live_stops`` if they do not exist."""
    for statement in LIVE_STATE_DDL:
        conn.execute(statement)


def has_stored_live_state(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds ``plans.live_vehicles`` (a live state has been stored at least once)."""
    exists = conn.execute(
        "select count(*) from duckdb_tables() where schema_name = 'plans' and table_name = 'live_vehicles' "
        "and database_name = current_database()"
    ).fetchone()[0]
    return bool(exists)


@contextmanager
def live_models_as_of(conn: duckdb.DuckDBPyConnection, as_of_s: int | None) -> Iterator[None]:
    """Within the block, the live dbt models on ``conn`` show the day up to ``as_of_s`` (None: everything)."""
    if as_of_s is not None:
        conn.execute("set variable live_as_of_s = ?", [int(as_of_s)])
    try:
        yield
    finally:
        conn.execute("reset variable live_as_of_s")


def newest_live_s(conn: duckdb.DuckDBPyConnection, service_date: str) -> int | None:
    """Local time (s) of the date's newest live fix, event or order change; None without live data."""
    with live_models_as_of(conn, None):
        row = conn.execute(
            """select greatest(
                   (select max(fix_s) from staging.stg_live_pings where service_date = cast($d as date)),
                   (select max(event_s) from staging.stg_live_events where service_date = cast($d as date)),
                   (select max(received_s) from staging.stg_order_changes where service_date = cast($d as date)))""",
            {"d": service_date},
        ).fetchone()
    return None if row[0] is None else int(row[0])


def valid_plan_versions(conn: duckdb.DuckDBPyConnection, service_date: str) -> list[tuple[str, str]]:
    """The date's valid plan versions that can be current (:data:`~orchestration.plan_store.CURRENT_PLAN_KINDS`),
    oldest first, as ``(plan_id, kind)``; the last one is the current plan."""
    return [
        (plan_id, kind)
        for plan_id, kind in conn.execute(
            "select plan_id, kind from plans.plan_runs where service_date = cast(? as date) and status = 'valid' "
            "and list_contains(?, kind) order by created_at_utc, version",
            [service_date, list(CURRENT_PLAN_KINDS)],
        ).fetchall()
    ]


@dataclass(frozen=True)
class VehicleProgress:
    """Where one vehicle of the date stands at ``as_of_s`` against the current plan.

    ``remaining`` are its route's stops not yet delivered, failed or cancelled, in plan order, re-timed from
    where it is (the committed stop first); ``done`` its finished stops with actual times (``status``
    delivered / failed), in the order they happened, each on its trip. ``at_s`` is the time of the position
    ``lat, lon``; ``trip`` the trip it is on (its depot departures so far, 0 before the first).
    """

    vehicle_id: str
    depot_id: str
    status: str
    departed: bool
    lat: float
    lon: float
    at_s: int
    fix_at_utc: object
    committed_order_id: str | None
    committed_done_s: int | None
    on_board: tuple[str, ...]
    done: tuple[PlannedStop, ...]
    remaining: tuple[PlannedStop, ...]
    broken_down_s: int | None
    break_taken: bool
    trip: int
    stops_done: int
    stops_failed: int


@dataclass(frozen=True)
class LiveDay:
    """Everything the live state of a date is computed from, at ``as_of_s``."""

    service_date: str
    as_of_s: int
    plan_id: str | None
    orders: pd.DataFrame  # int_live_orders
    stop_status: pd.DataFrame  # int_live_stop_status, indexed by order_id
    live_orders: dict[str, Order]  # every order of the date (morning and intraday), with its live windows
    morning_windows: dict[str, tuple[tuple[int, int], ...]]
    problems: dict[str, Problem]
    routes: dict[str, tuple[str, PlannedRoute]]  # vehicle id -> (depot id, route of the current plan)
    unassigned: list[tuple[str, str]]  # (depot id, order id) left out by the current plan
    vehicles: list[VehicleProgress] = field(default_factory=list)
    # vehicle id -> deliveries it loaded when it last left its depot (see _loaded_at_departure); a vehicle on the
    # road without an entry: none known, its load is read from the current plan's trip.
    loaded: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @functools.cached_property
    def attempts(self) -> dict[str, int]:
        """Order id -> its finished attempts (delivered and failed events) up to ``as_of_s``."""
        frame = self.stop_status
        return {o: int(n) for o, n in zip(frame.order_id, frame.attempts, strict=True) if not pd.isna(n)}

    @functools.cached_property
    def finished_in_plan(self) -> Counter[str]:
        """Order id -> its stops the current plan had finished (delivered or failed) when it was made."""
        return Counter(
            s.order_id for _, route in self.routes.values() for s in route.stops if s.status in ("delivered", "failed")
        )


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(round(float(value)))


def _windows(row) -> tuple[tuple[int, int], ...]:
    first = (int(row.tw_start_s), int(row.tw_end_s))
    return (first,) if pd.isna(row.tw2_start_s) else (first, (int(row.tw2_start_s), int(row.tw2_end_s)))


def _live_order(row) -> Order:
    """A solver order from an ``int_live_orders`` row (an order placed during the day)."""
    windows = _windows(row)
    return Order(
        order_id=row.order_id,
        lat=float(row.lat),
        lon=float(row.lon),
        weight_g=int(row.weight_g),
        volume_cm3=int(row.volume_cm3),
        service_s=int(row.service_s),
        tw_start_s=windows[0][0],
        tw_end_s=windows[0][1],
        required_skills=frozenset((row.required_skills or "").split()),
        priority=row.priority,
        order_type=row.order_type,
        parcels=int(row.parcels),
        extra_windows=windows[1:],
        unserved_penalty_eur=None if pd.isna(row.unserved_penalty_eur) else float(row.unserved_penalty_eur),
        shipment_id=None if pd.isna(row.shipment_id) else str(row.shipment_id),
    )


def _with_windows(order: Order, windows: tuple[tuple[int, int], ...]) -> Order:
    """The order with other windows; a learned preferred window no longer applies then."""
    if order.windows == windows:
        return order
    return dataclasses.replace(
        order,
        tw_start_s=windows[0][0],
        tw_end_s=windows[0][1],
        extra_windows=windows[1:],
        preferred_tw_start_s=None,
        preferred_tw_end_s=None,
        preferred_bonus_eur=0.0,
    )


def _travel_model(conn: duckdb.DuckDBPyConnection, plan_id: str | None, inputs) -> TimeDependentTravelModel:
    """The travel model the plan was made with: the learned one of its date, else constant speed (a flat
    time-dependent model, which times legs as the great-circle model at the vehicle's speed); either with the
    weather observed last for the next hours (``inputs`` made with ``as_of_s``). A plan made on a road network is
    re-timed at constant speed (the road graph is not loaded for the live state)."""
    circuity = SolveConfig().circuity
    version = None
    if plan_id is not None:
        version, parameters = conn.execute(
            "select travel_model_version, parameters from plans.plan_runs where plan_id = ?", [plan_id]
        ).fetchone()
        circuity = float(json.loads(parameters or "{}").get("circuity", circuity))
    learned = inputs.travel_model
    if version and isinstance(learned, TimeDependentTravelModel) and learned.version == version:
        return learned  # with the weather observed last in place of the forecast (the nowcast)
    if not version and isinstance(learned, TimeDependentTravelModel) and learned.version == WEATHER_PRIOR_VERSION:
        return dataclasses.replace(learned, circuity=circuity)  # constant speed, slowed by the weather seen live
    return TimeDependentTravelModel(hour_factor=(1.0,) * 24, circuity=circuity)


def _uses_learned_models(conn: duckdb.DuckDBPyConnection, plan_id: str | None) -> bool:
    if plan_id is None:
        return True
    row = conn.execute(
        "select coalesce(travel_model_version, service_model_version, availability_model_version) "
        "from plans.plan_runs where plan_id = ?",
        [plan_id],
    ).fetchone()
    return row is not None and row[0] is not None


def _retime(
    problem: Problem,
    vehicle: Vehicle,
    route: PlannedRoute,
    model: TimeDependentTravelModel,
    stops: list[PlannedStop],
    origin: Depot | None,
    start_s: int,
    end_depot_id: str,
    break_after: int | None,
) -> tuple[list[PlannedStop], int]:
    """Re-time ``stops`` (one trip) leaving ``origin`` (None: the route's start depot) at ``start_s`` and ending
    at ``end_depot_id``; returns the stops (their own sequence and trip kept) and the arrival at the end."""
    depots = problem.depots if origin is None else (*problem.depots, origin)
    trip_problem = dataclasses.replace(problem, vehicles=(vehicle,), depots=depots)
    trip = dataclasses.replace(
        route,
        stops=tuple(stops),
        start_s=int(start_s),
        start_depot_id=route.start_depot_id if origin is None else origin.depot_id,
        end_depot_id=end_depot_id,
        reloads=(),
        break_after_sequence=break_after,
        break_start_s=None,
    )
    timed = retime_route(trip, trip_problem, model)
    return [
        dataclasses.replace(new, sequence=old.sequence, trip=old.trip)
        for old, new in zip(stops, timed.stops, strict=True)
    ], timed.end_s


def _remaining_etas(
    problem: Problem,
    vehicle: Vehicle,
    route: PlannedRoute,
    model: TimeDependentTravelModel,
    remaining: list[PlannedStop],
    origin: Depot | None,
    start_s: int,
    break_pending: bool,
) -> list[PlannedStop]:
    """ETAs of the remaining stops, trip by trip: the first trip from ``origin`` at ``start_s``, each later one
    from the start depot after the reload; the driver's break where the plan put it, unless already taken."""
    if not remaining:
        return []
    no_break = dataclasses.replace(vehicle, break_s=0, break_earliest_s=None, break_latest_s=None)
    trips: dict[int, list[PlannedStop]] = {}
    for stop in remaining:
        trips.setdefault(stop.trip, []).append(stop)
    start_depot = problem.depot_of(route.start_depot_id or None)
    timed: list[PlannedStop] = []
    t, here = start_s, origin
    numbers = sorted(trips)
    break_trip = None
    if break_pending and vehicle.break_s:
        planned = route.break_after_sequence
        later = [n for n in numbers if planned is None or trips[n][-1].sequence >= planned]
        break_trip = later[0] if later else numbers[-1]
    for index, number in enumerate(numbers):
        stops = trips[number]
        last = index == len(numbers) - 1
        end = route.end_depot_id if last else route.start_depot_id
        if number == break_trip:
            planned = route.break_after_sequence
            after = None if planned is None else sum(1 for s in stops if s.sequence <= planned)
            stops_timed, t = _retime(problem, vehicle, route, model, stops, here, t, end, after)
        else:
            stops_timed, t = _retime(problem, no_break, route, model, stops, here, t, end, None)
        timed.extend(stops_timed)
        t, here = t + start_depot.reload_s, None
    return timed


def _position_depot(lat: float, lon: float) -> Depot:
    return Depot(LIVE_POSITION_ID, float(lat), float(lon), 0, 2 * SECONDS_PER_DAY)


def _departures(vehicle_row) -> list[int]:
    """The vehicle's depot departures so far, seconds, in order (trip k starts at the k-th)."""
    times = getattr(vehicle_row, "departures_s", None)
    if times is None or isinstance(times, (float, type(pd.NA))):  # no departure: null
        return []
    return sorted(int(round(float(t))) for t in times)


def _done_stops(
    route_orders: dict[str, Order],
    statuses: pd.DataFrame,
    vehicle_id: str,
    start: Depot,
    circuity: float,
    departures: list[int],
) -> tuple[PlannedStop, ...]:
    """The vehicle's delivered and failed stops with actual times, in the order they happened, each on the trip of
    the last depot departure before it (a van that reloaded has finished stops on trips 1, 2, ...)."""
    mine = statuses[(statuses.vehicle_id == vehicle_id) & statuses.status.isin(["delivered", "failed"])]
    done = []
    lat, lon, departed = start.lat, start.lon, None
    for sequence, row in enumerate(mine.sort_values("status_s").itertuples(), start=1):
        order = route_orders.get(row.order_id)
        arrival = _int(row.arrived_s) if _int(row.arrived_s) is not None else _int(row.status_s)
        arrival = min(arrival, _int(row.status_s))
        here = (order.lat, order.lon) if order else (lat, lon)
        metres = int(round(circuity * float(haversine_m(lat, lon, here[0], here[1]))))
        done.append(
            PlannedStop(
                order_id=row.order_id,
                sequence=sequence,
                arrival_s=arrival,
                service_start_s=arrival,
                departure_s=_int(row.status_s),
                wait_s=0,
                leg_distance_m=metres,
                leg_duration_s=max(0, arrival - departed) if departed is not None else 0,
                late_s=order.lateness_s(arrival) if order else 0,
                trip=max(1, bisect.bisect_right(departures, arrival)),
                status=row.status,
            )
        )
        lat, lon, departed = here[0], here[1], _int(row.status_s)
    return tuple(done)


def _on_board(
    route: PlannedRoute | None,
    orders: dict[str, Order],
    remaining: list[PlannedStop],
    done: set[str],
    at_departure: tuple[str, ...] | None = None,
    cancelled: frozenset[str] | set[str] = frozenset(),
) -> tuple:
    """Orders loaded on the vehicle and not delivered or failed: the deliveries it left its depot with
    (``at_departure``, see :func:`_loaded_at_departure`), else those of the trip it is on in the current plan (the
    first remaining stop's); and a shipment's delivery once its pickup is done.

    A parcel stays on the van until it is delivered, failed or back at the depot, whatever a later plan says: a
    re-plan that leaves it out (the route no longer fits the day) does not unload it. (Read from the current plan
    alone, such a parcel counted as waiting at the depot: the next re-plan gave it to another van, 32 attempts at
    default scale, or to none, and the van came back with it and hours to spare.)
    """
    pickups_done = {orders[o].shipment_id for o in done if o in orders and orders[o].order_type == "pickup"}
    loaded = []
    trip = remaining[0].trip if remaining else None
    for stop in remaining:
        order = orders[stop.order_id]
        if order.order_type != "delivery":
            continue
        if order.shipment_id is not None:
            if order.shipment_id in pickups_done:
                loaded.append(stop.order_id)
        elif at_departure is None and stop.trip == trip:
            loaded.append(stop.order_id)
    if at_departure is not None:
        planned = {stop.order_id: k for k, stop in enumerate(remaining)}
        still = [o for o in at_departure if o not in done and o not in cancelled and o not in loaded]
        # In the order the current plan serves them, then the ones it leaves out as they were loaded (a stable sort).
        loaded += sorted(still, key=lambda o: planned.get(o, len(planned)))
    return tuple(loaded)


def _loaded_at_departure(
    conn: duckdb.DuckDBPyConnection,
    service_date: str,
    vehicles: pd.DataFrame,
    stop_status: pd.DataFrame,
    orders: dict[str, Order],
) -> dict[str, tuple[str, ...]]:
    """Vehicle id -> the deliveries it loaded when it last left its depot, for each vehicle on the road.

    The load is the trip it set off on in the plan version in force then: the newest valid morning plan or
    re-plan of the date made from a state no later than the departure (a re-plan's ``as_of_s``; a morning plan
    is always in force), its first stop not done before the departure and the deliveries of that stop's trip
    (shipments aside: their deliveries are loaded at their pickups); a retry the version planned after a failure
    is loaded, though the order's status is that failure. An order two vehicles would hold goes with
    the one that left last. The caller reads it only where the date has a current plan.
    """
    on_road = vehicles[
        vehicles.last_departure_s.notna()
        & (vehicles.last_return_s.isna() | (vehicles.last_departure_s >= vehicles.last_return_s))
        & vehicles.broken_down_s.isna()
    ]
    if on_road.empty:
        return {}
    stops = conn.execute(
        "select runs.plan_id, coalesce(runs.as_of_s, -1) as as_of_s, stops.vehicle_id, stops.order_id, "
        "coalesce(stops.trip, 1) as trip "
        "from plans.plan_runs as runs join plans.stops as stops on stops.plan_id = runs.plan_id "
        "where runs.service_date = cast(? as date) and runs.status = 'valid' and runs.kind in (select unnest(?)) "
        "and coalesce(stops.status, 'planned') in ('planned', 'committed') and stops.vehicle_id in (select unnest(?)) "
        "order by runs.created_at_utc, runs.version, stops.vehicle_id, stops.sequence",
        [service_date, list(CURRENT_PLAN_KINDS), list(on_road.vehicle_id)],
    ).fetchdf()
    finished = {
        row.order_id: (row.status, float(row.status_s))
        for row in stop_status.itertuples(index=False)
        if row.status in ("delivered", "failed") and not pd.isna(row.status_s)
    }

    def done_before(order_id: str, made_s: float, left_s: float) -> bool:
        # Delivered before the departure, or failed after the version was made and before the departure. A
        # failure the version knew of makes its stop a retry, loaded at the departure.
        status, at = finished.get(order_id, ("", float("inf")))
        return at < left_s and (status == "delivered" or at >= made_s)

    candidates: dict[str, tuple[float, list[str]]] = {}
    for row in on_road.itertuples(index=False):
        left_s = float(row.last_departure_s)
        mine = stops[(stops.vehicle_id == row.vehicle_id) & (stops.as_of_s <= left_s)]
        if mine.empty:
            continue
        version = mine[mine.plan_id == mine.plan_id.iloc[-1]]
        ahead = version[[not done_before(o, a, left_s) for o, a in zip(version.order_id, version.as_of_s, strict=True)]]
        if ahead.empty:
            continue
        trip = ahead.trip.iloc[0]
        candidates[row.vehicle_id] = (
            left_s,
            [
                o
                for o in ahead.order_id[ahead.trip == trip]
                if o in orders and orders[o].order_type == "delivery" and orders[o].shipment_id is None
            ],
        )
    holder: dict[str, str] = {}
    for vid, (_, ids) in sorted(candidates.items(), key=lambda item: (item[1][0], item[0])):
        holder.update(dict.fromkeys(ids, vid))  # the one that left last keeps it
    loaded = {vid: tuple(o for o in ids if holder[o] == vid) for vid, (_, ids) in candidates.items()}
    return {vid: ids for vid, ids in loaded.items() if ids}


def _still_to_do(
    route: PlannedRoute, day: LiveDay, status_of: Mapping[str, str], cancelled: set[str]
) -> list[PlannedStop]:
    """The stops of ``route`` (in the plan in force) not done yet: not finished when the plan was made, their order
    neither delivered nor cancelled, and not attempted since. A retry counts as attempted only once its order has
    more finished attempts than the plan had finished stops of it: a retry planned after a failure is still to do
    while the order's status is that failure. (Every retry counted as done, so a van heading home to reload was
    committed to the first stop of its next trip that was no retry, a parcel it did not carry: the re-plan put
    that stop before the reload, and the driver, back at the depot, drove it alone and came back for the rest.)"""
    attempts, finished_in_plan = day.attempts, day.finished_in_plan
    return [
        s
        for s in route.stops
        if s.status not in ("delivered", "failed")
        and s.order_id not in cancelled
        and status_of.get(s.order_id) != "delivered"
        and attempts.get(s.order_id, 0) <= finished_in_plan[s.order_id]
    ]


def _progress(day: LiveDay, vehicle_row, model: TimeDependentTravelModel, circuity: float) -> VehicleProgress:
    """One vehicle's position, committed stop, load, finished stops and re-timed remaining stops."""
    as_of = day.as_of_s
    depot_id = vehicle_row.depot_id
    problem = day.problems.get(depot_id)
    depot_id_route, route = day.routes.get(vehicle_row.vehicle_id, (depot_id, None))
    problem = day.problems.get(depot_id_route, problem)
    vehicle = next((v for v in problem.vehicles if v.vehicle_id == vehicle_row.vehicle_id), None) if problem else None
    start = problem.depot_of(vehicle.start_depot_id) if problem and vehicle else None
    statuses = day.stop_status
    status_of = dict(zip(statuses.order_id, statuses.status, strict=True))
    arrived_s = dict(zip(statuses.order_id, statuses.arrived_s, strict=True))
    cancelled = set(day.orders.order_id[day.orders.status == "cancelled"])
    departures = _departures(vehicle_row)
    done = _done_stops(day.live_orders, statuses, vehicle_row.vehicle_id, start, circuity, departures) if start else ()
    remaining = _still_to_do(route, day, status_of, cancelled) if route else []
    # Finished for what it carries: delivered, or failed since it last left its depot (a parcel that failed before
    # and was loaded again for its retry is on board).
    last_left = departures[-1] if departures else None
    done_ids = {
        o
        for o, status, at in zip(statuses.order_id, statuses.status, statuses.status_s, strict=True)
        if status == "delivered" or (status == "failed" and (last_left is None or at >= last_left))
    }
    departed = bool(vehicle_row.departed)
    broken_down_s = _int(vehicle_row.broken_down_s)
    fix_s, event_s = _int(vehicle_row.fix_s), _int(vehicle_row.last_event_s)
    if fix_s is not None and (event_s is None or pd.isna(vehicle_row.last_event_lat) or fix_s >= event_s):
        lat, lon, at_s = float(vehicle_row.lat), float(vehicle_row.lon), fix_s
    elif event_s is not None and not pd.isna(vehicle_row.last_event_lat):
        lat, lon, at_s = float(vehicle_row.last_event_lat), float(vehicle_row.last_event_lon), event_s
    elif start is not None:
        lat, lon, at_s = start.lat, start.lon, as_of
    else:
        lat, lon, at_s = float("nan"), float("nan"), as_of
    last_done = day.live_orders.get(done[-1].order_id) if done else None
    if departed and last_done is not None and done[-1].departure_s > at_s:  # left a stop after the newest position
        lat, lon, at_s = last_done.lat, last_done.lon, done[-1].departure_s
    # Back at its depot since its last departure (a reload, or between routes): it stands there, loaded or not,
    # committed to no stop; its next trip leaves from the depot.
    returned_s, left_s = _int(vehicle_row.last_return_s), _int(vehicle_row.last_departure_s)
    at_depot = departed and broken_down_s is None and returned_s is not None and (left_s is None or returned_s > left_s)
    # The stop it is at: one of its stops where it, not another van, reported its arrival. (Any van's arrival
    # counted: a van whose plan had been given a stop another van stood at, waiting for its window, was "serving"
    # it from that arrival, committed to it and re-timed to wait there for its evening window, 5 hours idle.)
    arrived_by = dict(zip(statuses.order_id, statuses.vehicle_id, strict=True))
    serving = [
        s
        for s in remaining
        if status_of.get(s.order_id) == "arrived"
        and arrived_by.get(s.order_id) == vehicle_row.vehicle_id
        and departed
        and not at_depot
    ]
    # Heading home to reload: it finished a stop since it last left its depot, and the plan in force has its next
    # stop after a reload. Committed to no stop, like a van at its depot: its next trip leaves from there. (It was
    # committed to the next trip's first stop, so the re-plan put that stop on the trip it was finishing, without
    # the reload; the driver, back at the depot, saw no new trip and left at once for a door it then stood at for
    # 146 minutes, waiting for the window.)
    heading_home = False
    if departed and not at_depot and broken_down_s is None and remaining and not serving and done and departures:
        k = next(i for i, s in enumerate(route.stops) if s is remaining[0])
        heading_home = k > 0 and route.stops[k - 1].trip < remaining[0].trip and done[-1].departure_s >= departures[-1]
    committed = None
    if departed and not at_depot and not heading_home and broken_down_s is None and remaining:
        committed = max(serving, key=lambda s: arrived_s[s.order_id]) if serving else remaining[0]
        remaining = [committed, *(s for s in remaining if s is not committed)]
    break_taken = bool(
        route is not None
        and route.break_start_s is not None
        and vehicle is not None
        and (route.break_start_s + vehicle.break_s <= as_of or (departed and route.break_start_s <= as_of))
    )
    timed: list[PlannedStop] = []
    if route is not None and vehicle is not None and broken_down_s is None and remaining:
        if not departed:
            timed = _remaining_etas(
                problem, vehicle, route, model, remaining, None, max(route.start_s, as_of), not break_taken
            )
        elif at_depot:
            timed = _remaining_etas(
                problem, vehicle, route, model, remaining, None, max(returned_s, as_of), not break_taken
            )
        elif heading_home:
            no_break = dataclasses.replace(vehicle, break_s=0, break_earliest_s=None, break_latest_s=None)
            _, home_s = _retime(
                problem, no_break, route, model, [], _position_depot(lat, lon), max(at_s, as_of), route.start_depot_id,
                None,
            )  # fmt: skip
            reload_s = problem.depot_of(route.start_depot_id or None).reload_s
            timed = _remaining_etas(problem, vehicle, route, model, remaining, None, home_s + reload_s, not break_taken)
        elif serving:
            order = day.live_orders[committed.order_id]
            timed = _remaining_etas(
                problem, vehicle, route, model, remaining, _position_depot(order.lat, order.lon),
                _int(arrived_s[committed.order_id]), not break_taken,
            )  # fmt: skip
            if timed[0].departure_s < as_of:  # still on site: the rest leaves from there now
                rest = _remaining_etas(
                    problem, vehicle, route, model, remaining[1:], _position_depot(order.lat, order.lon), as_of,
                    not break_taken,
                )  # fmt: skip
                timed = [dataclasses.replace(timed[0], departure_s=as_of), *rest]
        else:
            timed = _remaining_etas(
                problem, vehicle, route, model, remaining, _position_depot(lat, lon), at_s, not break_taken
            )
            if timed[0].arrival_s < as_of:  # not reported there yet: arriving any moment
                order = day.live_orders[committed.order_id]
                timed = _remaining_etas(
                    problem, vehicle, route, model, remaining, _position_depot(order.lat, order.lon), as_of,
                    not break_taken,
                )  # fmt: skip
        if committed is not None:
            timed[0] = dataclasses.replace(timed[0], status="committed")
    if broken_down_s is not None:
        status = "broken_down"
    elif not departed:
        status = "not_started"
    elif serving:
        status = "at_stop"
    elif at_depot:
        status = "at_depot" if remaining else "finished"
    else:
        status = "driving"
    on_road = departed and not at_depot and route is not None
    on_board = (
        _on_board(route, day.live_orders, remaining, done_ids, day.loaded.get(vehicle_row.vehicle_id), cancelled)
        if on_road
        else ()
    )
    return VehicleProgress(
        vehicle_id=vehicle_row.vehicle_id,
        depot_id=depot_id,
        status=status,
        departed=departed,
        lat=lat,
        lon=lon,
        at_s=at_s,
        fix_at_utc=vehicle_row.fix_at_utc,
        committed_order_id=committed.order_id if committed is not None else None,
        committed_done_s=timed[0].departure_s if committed is not None and timed else None,
        on_board=on_board,
        done=done,
        remaining=tuple(timed) if timed else tuple(remaining),
        broken_down_s=broken_down_s,
        break_taken=break_taken,
        trip=len(departures),
        stops_done=int(vehicle_row.delivered_stops),
        stops_failed=int(vehicle_row.failed_stops),
    )


def load_live_day(conn: duckdb.DuckDBPyConnection, service_date: str, as_of_s: int | None = None) -> LiveDay:
    """Read the live models up to ``as_of_s`` (default: the newest live data, else the end of the day) and the
    date's current plan, and work out every vehicle's progress.

    Raises
    ------
    ValueError
        If ``as_of_s`` is not within the day (0 .. 86399 s).
    """
    if as_of_s is None:
        as_of_s = newest_live_s(conn, service_date)
        as_of_s = SECONDS_PER_DAY - 1 if as_of_s is None else as_of_s
    if not 0 <= as_of_s < SECONDS_PER_DAY:
        raise ValueError(f"as_of_s must be a time of the day, 0..{SECONDS_PER_DAY - 1} s, got {as_of_s}")
    with live_models_as_of(conn, as_of_s):
        orders = conn.execute(
            "select * from intermediate.int_live_orders where service_date = cast(? as date) order by order_id",
            [service_date],
        ).fetchdf()
        stop_status = conn.execute(
            "select * from intermediate.int_live_stop_status where service_date = cast(? as date) order by order_id",
            [service_date],
        ).fetchdf()
        vehicles = conn.execute(
            "select * from intermediate.int_live_vehicles where service_date = cast(? as date) order by vehicle_id",
            [service_date],
        ).fetchdf()
    plan_id = current_plan_id(conn, service_date)
    inputs = prepare_problems(conn, service_date, use_learned=_uses_learned_models(conn, plan_id), as_of_s=as_of_s)
    model = _travel_model(conn, plan_id, inputs)
    problems = {p.depot.depot_id: p for p in inputs.problems}
    live_orders: dict[str, Order] = {}
    morning_windows: dict[str, tuple[tuple[int, int], ...]] = {}
    for problem in problems.values():
        for order in problem.orders:
            live_orders[order.order_id] = order
            morning_windows[order.order_id] = order.windows
    by_depot: dict[str, list[Order]] = {}
    for row in orders.itertuples(index=False):
        if row.order_id in live_orders:
            live_orders[row.order_id] = _with_windows(live_orders[row.order_id], _windows(row))
        else:
            live_orders[row.order_id] = _live_order(row)
            by_depot.setdefault(row.depot_id, []).append(live_orders[row.order_id])
    problems = {
        depot_id: dataclasses.replace(
            problem,
            orders=tuple(live_orders[o.order_id] for o in problem.orders) + tuple(by_depot.get(depot_id, ())),
        )
        for depot_id, problem in problems.items()
    }
    routes: dict[str, tuple[str, PlannedRoute]] = {}
    unassigned: list[tuple[str, str]] = []
    if plan_id is not None:
        for depot_id, plan in read_plan(conn, plan_id).items():
            routes.update({route.vehicle_id: (depot_id, route) for route in plan.routes})
            unassigned.extend((depot_id, item.order_id) for item in plan.unassigned)
    loaded = _loaded_at_departure(conn, service_date, vehicles, stop_status, live_orders) if plan_id else {}
    day = LiveDay(
        service_date, int(as_of_s), plan_id, orders, stop_status, live_orders, morning_windows, problems, routes,
        unassigned, loaded=loaded,
    )  # fmt: skip
    progress = [_progress(day, row, model, model.circuity) for row in vehicles.itertuples(index=False)]
    return dataclasses.replace(day, vehicles=progress)


@dataclass(frozen=True)
class LiveStateTables:
    """The rows of ``plans.live_vehicles`` and ``plans.live_stops`` for one date and ``as_of_s``."""

    service_date: str
    as_of_s: int
    plan_id: str | None
    vehicles: pd.DataFrame
    stops: pd.DataFrame


def _plan_stops(conn: duckdb.DuckDBPyConnection, plan_id: str | None) -> dict[str, tuple[str, int]]:
    """Order id -> (vehicle id, planned arrival) in a stored plan; empty for None."""
    if plan_id is None:
        return {}
    rows = conn.execute("select order_id, vehicle_id, arrival_s from plans.stops where plan_id = ?", [plan_id])
    return {order_id: (vehicle_id, int(arrival)) for order_id, vehicle_id, arrival in rows.fetchall()}


def compute_live_state(
    conn: duckdb.DuckDBPyConnection, service_date: str, as_of_s: int | None = None
) -> LiveStateTables:
    """The live state of a date at ``as_of_s`` as the rows of ``plans.live_vehicles`` and ``plans.live_stops``.

    Parameters
    ----------
    conn
        The warehouse, with the dbt live models built.
    service_date
        ISO date.
    as_of_s
        Local seconds since midnight; default the newest live fix, event or change of the date.

    Returns
    -------
    LiveStateTables
        One row per vehicle of the date's fleet; one row per stop of the current plan (with its live status, ETA,
        lateness and what changed against the previous plan version: ``moved``, ``previous_vehicle_id``,
        ``eta_change_s``), per order it left unassigned and per order placed during the day that no plan holds.
    """
    day = load_live_day(conn, service_date, as_of_s)
    versions = valid_plan_versions(conn, service_date) if day.plan_id is not None else []
    ids = [plan_id for plan_id, _ in versions]
    previous_id = ids[ids.index(day.plan_id) - 1] if day.plan_id in ids and ids.index(day.plan_id) > 0 else None
    morning_id = next((plan_id for plan_id, kind in reversed(versions) if kind == "daily"), None)
    previous, morning = _plan_stops(conn, previous_id), _plan_stops(conn, morning_id)
    statuses = day.stop_status.set_index("order_id")
    cancelled = set(day.orders.order_id[day.orders.status == "cancelled"])
    computed_at = datetime.now(UTC)

    vehicle_rows, stop_rows = [], []
    for progress in day.vehicles:
        timed = {s.order_id: s for s in progress.remaining}
        late = [s.late_s for s in progress.remaining if s.late_s > 0] if progress.broken_down_s is None else []
        nxt = progress.remaining[0] if progress.remaining and progress.broken_down_s is None else None
        vehicle_rows.append(
            {
                "vehicle_id": progress.vehicle_id,
                "depot_id": progress.depot_id,
                "lat": progress.lat,
                "lon": progress.lon,
                "fix_at_utc": progress.fix_at_utc,
                "status": progress.status,
                "stops_done": progress.stops_done,
                "stops_failed": progress.stops_failed,
                "stops_remaining": len(progress.remaining),
                "next_order_id": nxt.order_id if nxt else None,
                "next_eta_s": nxt.arrival_s if nxt and timed else None,
                "late_stops": len(late),
                "late_s_total": sum(late),
            }
        )
        depot_id, route = day.routes.get(progress.vehicle_id, (progress.depot_id, None))
        for stop in route.stops if route else ():
            order = day.live_orders.get(stop.order_id)
            status = statuses.status.get(stop.order_id)
            row = {"depot_id": depot_id, "vehicle_id": progress.vehicle_id, "sequence": stop.sequence}
            # A retry still to do is timed, though its order's status is the attempt that failed before.
            ahead = stop.order_id in timed and stop.status not in ("delivered", "failed")
            if status in ("delivered", "failed") and not ahead:
                actual = statuses.loc[stop.order_id]
                eta = _int(actual.arrived_s) if _int(actual.arrived_s) is not None else _int(actual.status_s)
                late_s = order.lateness_s(eta) if order else 0
                row.update(status=status, eta_s=eta, late_s=late_s, at_risk=False)
            elif stop.order_id in cancelled:
                row.update(status="cancelled", eta_s=None, late_s=None, at_risk=False)
            elif stop.order_id in timed and progress.broken_down_s is None:
                new = timed[stop.order_id]
                row.update(status=new.status, eta_s=new.arrival_s, late_s=new.late_s, at_risk=new.late_s > 0)
            else:  # its vehicle broke down: the stop is missed unless a re-plan moves it
                row.update(status="planned", eta_s=None, late_s=None, at_risk=True)
            stop_rows.append(_stop_row(row, stop.order_id, order, previous, morning, previous_id))
    planned = {s["order_id"] for s in stop_rows}
    intraday = day.orders[day.orders.source == "intraday"]
    left_out = [*day.unassigned, *zip(intraday.depot_id, intraday.order_id, strict=True)]
    for depot_id, order_id in left_out:
        if order_id in planned:
            continue
        status = "cancelled" if order_id in cancelled else "unassigned"
        row = {"depot_id": depot_id, "vehicle_id": None, "sequence": None, "status": status, "eta_s": None,
               "late_s": None, "at_risk": False}  # fmt: skip
        stop_rows.append(_stop_row(row, order_id, day.live_orders.get(order_id), previous, morning, previous_id))
        planned.add(order_id)

    common = {"service_date": pd.Timestamp(service_date).date(), "as_of_s": day.as_of_s, "plan_id": day.plan_id}
    vehicles = pd.DataFrame([{**common, **r, "computed_at_utc": computed_at} for r in vehicle_rows])
    stops = pd.DataFrame([{**common, **r} for r in stop_rows])
    return LiveStateTables(
        service_date,
        day.as_of_s,
        day.plan_id,
        vehicles.reindex(columns=list(LIVE_VEHICLE_COLUMNS)),
        stops.reindex(columns=list(LIVE_STOP_COLUMNS)),
    )


def _stop_row(row: dict, order_id: str, order: Order | None, previous: dict, morning: dict, previous_id) -> dict:
    before = previous.get(order_id)
    vehicle_id = row["vehicle_id"]
    return {
        **row,
        "order_id": order_id,
        "lat": order.lat if order else None,
        "lon": order.lon if order else None,
        "morning_eta_s": morning[order_id][1] if order_id in morning else None,
        "tw_start_s": order.tw_start_s if order else None,
        "tw_end_s": order.tw_end_s if order else None,
        "moved": bool(previous_id and before and vehicle_id and before[0] != vehicle_id),
        "previous_vehicle_id": before[0] if before else None,
        "eta_change_s": row["eta_s"] - before[1] if before and row["eta_s"] is not None else None,
    }


def write_live_state(conn: duckdb.DuckDBPyConnection, tables: LiveStateTables) -> None:
    """Replace the date's rows of ``plans.live_vehicles`` and ``plans.live_stops`` with ``tables``, atomically."""
    ensure_live_schema(conn)
    conn.execute("begin transaction")
    try:
        for table, frame, columns in (
            ("live_vehicles", tables.vehicles, LIVE_VEHICLE_COLUMNS),
            ("live_stops", tables.stops, LIVE_STOP_COLUMNS),
        ):
            conn.execute(f"delete from plans.{table} where service_date = cast(? as date)", [tables.service_date])
            if frame.empty:
                continue
            conn.register("_live_rows", frame)
            try:
                conn.execute(f"insert into plans.{table} ({', '.join(columns)}) select {', '.join(columns)} "
                             "from _live_rows")  # fmt: skip
            finally:
                conn.unregister("_live_rows")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def read_live_state(conn: duckdb.DuckDBPyConnection, service_date: str, as_of_s: int, depot_id: str | None = None):
    """The re-planner's input (:class:`solver.replan.LiveState`) for a date at ``as_of_s``.

    Parameters
    ----------
    conn
        The warehouse, with the dbt live models built.
    service_date
        ISO date.
    as_of_s
        Local seconds since midnight: later fixes, events and changes are ignored.
    depot_id
        Only this depot's vehicles and orders; None: every depot.

    Returns
    -------
    solver.replan.LiveState
        A :class:`~solver.replan.VehicleState` per vehicle (departed, last position and its time, committed stop
        and its re-timed end of service, orders on board, finished stops with actual times, breakdown); orders
        delivered, failed (with the reason of the last attempt) and cancelled; every order placed during the day
        up to ``as_of_s`` (open ones, as :class:`solver.model.Order`); the changed windows of morning orders; the
        learned success by hour of the failed ones (:func:`success_by_hour`).
    """
    return read_live_states(conn, service_date, as_of_s, [depot_id])[0]


def read_live_states(
    conn: duckdb.DuckDBPyConnection, service_date: str, as_of_s: int, depot_ids: list[str | None]
) -> list:
    """:func:`read_live_state` for several depots (``None``: every depot), reading the day once.

    (Read once per depot, the live day, its problems and current plan and every vehicle's re-timed progress were
    loaded again for each depot of a re-plan.)
    """
    day = load_live_day(conn, service_date, as_of_s)
    return [_live_state(conn, day, depot_id) for depot_id in depot_ids]


def _live_state(conn: duckdb.DuckDBPyConnection, day: LiveDay, depot_id: str | None):
    from solver.replan import LiveState, VehicleState

    service_date = day.service_date
    orders = day.orders if depot_id is None else day.orders[day.orders.depot_id == depot_id]
    in_scope = set(orders.order_id)
    status = day.stop_status[day.stop_status.order_id.isin(in_scope)]
    vehicles = tuple(
        VehicleState(
            vehicle_id=p.vehicle_id,
            departed=p.departed,
            lat=p.lat,
            lon=p.lon,
            at_s=p.at_s,
            committed_order_id=p.committed_order_id,
            committed_done_s=p.committed_done_s,
            on_board=p.on_board,
            done=p.done,
            broken_down_s=p.broken_down_s,
            break_taken=p.break_taken,
            trip=p.trip or None,
            at_depot=p.status in ("at_depot", "finished"),
        )
        for p in day.vehicles
        if depot_id is None or p.depot_id == depot_id
    )
    windows = {
        order_id: day.live_orders[order_id].windows
        for order_id in sorted(in_scope)
        if order_id in day.morning_windows and day.live_orders[order_id].windows != day.morning_windows[order_id]
    }
    new_orders = tuple(
        day.live_orders[r.order_id] for r in orders.itertuples() if r.source == "intraday" and r.status == "open"
    )
    failed = {r.order_id: r.failure_reason for r in status.itertuples() if r.status == "failed"}
    return LiveState(
        service_date=service_date,
        as_of_s=day.as_of_s,
        vehicles=vehicles,
        delivered=frozenset(status.order_id[status.status == "delivered"]),
        failed=failed,
        cancelled=frozenset(orders.order_id[orders.status == "cancelled"]),
        new_orders=new_orders,
        windows=windows,
        success_by_hour=success_by_hour(conn, service_date, orders[orders.order_id.isin(failed)]),
    )


def success_by_hour(conn: duckdb.DuckDBPyConnection, service_date: str, orders: pd.DataFrame) -> dict:
    """Delivery success by local hour for ``orders`` (rows of ``int_live_orders``): its customer's rates in the
    newest availability model trained before the date, else its town's; without a model that knows either (the
    first days of an operation), the prior of its site type (``reference.presence_priors``: households out in
    working hours and in at the evening, businesses open in business hours).

    Returns
    -------
    dict
        Order id -> {hour (0-23): success rate}; orders that neither the model nor the priors know are left out.
    """
    if orders.empty:
        return {}
    rates: dict[tuple[str, str], dict[int, float]] = {}
    version = newest_version_before(conn, "availability", service_date)
    if version is not None:
        table = read_version_table(conn, "availability", version)
        for row in table.itertuples(index=False):
            key = (row.level, row.customer_id if row.level == "customer" else row.zone)
            rates.setdefault(key, {})[int(row.hour) % 24] = float(row.success_rate)
    priors = presence_priors(conn)
    found = {}
    for row in orders.itertuples(index=False):
        by_hour = (
            rates.get(("customer", row.customer_id))
            or rates.get(("zone", row.town))
            or priors.get(getattr(row, "site_type", None))
        )
        if by_hour:
            found[row.order_id] = by_hour
    return found


def presence_priors(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[int, float]]:
    """Site type -> {hour (0-23): chance the customer is in} from the dbt seed ``reference.presence_priors`` (blocks
    of hours, expanded); empty where the seed has not been loaded."""
    loaded = conn.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'reference' and table_name = 'presence_priors'"
    ).fetchone()[0]
    if not loaded:
        return {}
    blocks = conn.execute("select site_type, start_hour, end_hour, success_rate from reference.presence_priors")
    priors: dict[str, dict[int, float]] = {}
    for site_type, start, end, rate in blocks.fetchall():
        for hour in range(int(start), int(end)):
            priors.setdefault(str(site_type), {})[hour % 24] = float(rate)
    return priors
