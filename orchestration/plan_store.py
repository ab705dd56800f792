"""Between the warehouse and the solver: read planning problems from the marts, store plans in ``plans.*``.

The solver never opens a database; this module hands it dataclasses and stores what it returns. Plans are
versioned: every write adds a new version for its date and kind and never changes an older one's content. Status
goes ``pending`` -> ``valid`` | ``invalid``; a version a killed run left ``pending`` becomes ``abandoned``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime

import duckdb
import pandas as pd

from solver import (
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

PLANS_DDL = (
    "create schema if not exists plans",
    """create table if not exists plans.plan_runs (
        plan_id varchar primary key, service_date date not null, kind varchar not null, version integer not null,
        created_at_utc timestamptz not null, seed integer, time_budget_s double, parameters varchar,
        runtime_s double, objective double, n_orders integer, n_assigned integer, n_unassigned integer,
        status varchar not null, travel_model_version varchar, service_model_version varchar,
        availability_model_version varchar, reason varchar, parent_plan_id varchar, as_of_s integer,
        n_moved integer)""",
    """create table if not exists plans.solves (
        plan_id varchar, depot_id varchar, n_orders integer, n_vehicles integer, runtime_s double,
        iterations bigint, objective double, feasible boolean, stopped_by varchar, build_s double,
        search_s double)""",
    """create table if not exists plans.routes (
        plan_id varchar, depot_id varchar, route_id varchar, vehicle_id varchar, vehicle_type varchar,
        n_stops integer, start_s integer, end_s integer, distance_m bigint, duration_s bigint,
        weight_g bigint, volume_cm3 bigint, cost_eur double, overtime_s integer default 0,
        start_depot_id varchar, end_depot_id varchar, n_reloads integer default 0, break_after_sequence integer,
        break_start_s integer)""",
    """create table if not exists plans.stops (
        plan_id varchar, route_id varchar, vehicle_id varchar, sequence integer, order_id varchar,
        arrival_s integer, service_start_s integer, departure_s integer, wait_s integer,
        leg_distance_m bigint, leg_duration_s bigint, late_s integer default 0, in_preferred_window boolean,
        trip integer default 1, status varchar default 'planned')""",
    """create table if not exists plans.reloads (
        plan_id varchar, route_id varchar, after_sequence integer, arrival_s integer, departure_s integer,
        leg_distance_m bigint, leg_duration_s bigint)""",
    """create table if not exists plans.unassigned (
        plan_id varchar, depot_id varchar, order_id varchar, reason_code varchar, reason varchar)""",
    # Warehouses made before plans were re-timed with learned models (issue 5) lack these columns.
    "alter table plans.plan_runs add column if not exists travel_model_version varchar",
    "alter table plans.plan_runs add column if not exists service_model_version varchar",
    "alter table plans.plan_runs add column if not exists availability_model_version varchar",
    "alter table plans.routes add column if not exists overtime_s integer default 0",
    "alter table plans.stops add column if not exists late_s integer default 0",
    "alter table plans.stops add column if not exists in_preferred_window boolean",
    # ... and before multi-depot routes, reloads and breaks (issue 6): their routes start and end at their depot
    # (empty = the plan's depot), have one trip, no reload and no break.
    "alter table plans.routes add column if not exists start_depot_id varchar",
    "alter table plans.routes add column if not exists end_depot_id varchar",
    "alter table plans.routes add column if not exists n_reloads integer default 0",
    "alter table plans.routes add column if not exists break_after_sequence integer",
    "alter table plans.routes add column if not exists break_start_s integer",
    "alter table plans.stops add column if not exists trip integer default 1",
    # ... and before re-planning during the day (issue 7): every plan was a morning plan of planned stops.
    "alter table plans.plan_runs add column if not exists reason varchar",
    "alter table plans.plan_runs add column if not exists parent_plan_id varchar",
    "alter table plans.plan_runs add column if not exists as_of_s integer",
    "alter table plans.plan_runs add column if not exists n_moved integer",
    "alter table plans.stops add column if not exists status varchar default 'planned'",
)
CURRENT_PLAN_KINDS = ("daily", "replan")
"""Kinds of plan version that can be a date's current plan (a what-if never is)."""
STOP_STATUSES = ("delivered", "failed", "committed", "planned")
"""Values of ``plans.stops.status``: done stops of a re-plan (actual times), its committed stop, the rest."""
MODEL_VERSION_COLUMNS = ("travel_model_version", "service_model_version", "availability_model_version")
"""Columns of ``plans.plan_runs`` naming the learned model versions a plan was made with (null: none)."""


def ensure_plans_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the ``plans`` schema and tables if they do not exist."""
    for statement in PLANS_DDL:
        conn.execute(statement)


def _skills(text: str | None) -> frozenset[str]:
    return frozenset((text or "").split())


# The solver-input columns of issue 6 and what a mart built before them means (its rows: no such constraint).
_CONSTRAINT_DEFAULTS_BY_MART: dict[str, dict[str, str]] = {
    "dim_depots": {"reload_s": "0"},
    "fct_orders_to_plan": {
        "parcels": "1", "tw2_start_s": "null", "tw2_end_s": "null", "unserved_penalty_eur": "null",
        "shipment_id": "null",
    },
    "fct_vehicle_days": {
        "capacity_parcels": "null", "start_depot_id": "null", "end_depot_id": "null", "max_duration_s": "null",
        "max_distance_m": "null", "max_overtime_s": "0", "overtime_cost_per_hour_eur": "0", "break_s": "0",
        "break_earliest_s": "null", "break_latest_s": "null", "max_reloads": "0",
    },
}  # fmt: skip


def _columns(conn: duckdb.DuckDBPyConnection, mart: str) -> str:
    """The mart's constraint columns for a select list; one the mart lacks (built before them) reads as its
    default. Names and defaults come from :data:`_CONSTRAINT_DEFAULTS_BY_MART`, never from input."""
    present = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?",
            [mart],
        ).fetchall()
    }
    defaults = _CONSTRAINT_DEFAULTS_BY_MART[mart]
    return ", ".join(c if c in present else f"{value} as {c}" for c, value in defaults.items())


def _int_or_none(value) -> int | None:
    return None if pd.isna(value) else int(value)


def _other_depot(depot_id, home: str) -> str | None:
    """A route end in solver terms: ``None`` for the problem's own depot."""
    return None if pd.isna(depot_id) or depot_id == home else str(depot_id)


def _depot(row) -> Depot:
    return Depot(
        row.depot_id, float(row.lat), float(row.lon), int(row.opens_s), int(row.closes_s), reload_s=int(row.reload_s)
    )


def _order(o) -> Order:
    extra = () if pd.isna(o.tw2_start_s) else ((int(o.tw2_start_s), int(o.tw2_end_s)),)
    return Order(
        order_id=o.order_id,
        lat=float(o.lat),
        lon=float(o.lon),
        weight_g=int(o.weight_g),
        volume_cm3=int(o.volume_cm3),
        service_s=int(o.service_s),
        tw_start_s=int(o.tw_start_s),
        tw_end_s=int(o.tw_end_s),
        required_skills=_skills(o.required_skills),
        priority=o.priority,
        order_type=o.order_type,
        parcels=int(o.parcels),
        extra_windows=extra,
        unserved_penalty_eur=None if pd.isna(o.unserved_penalty_eur) else float(o.unserved_penalty_eur),
        shipment_id=None if pd.isna(o.shipment_id) else str(o.shipment_id),
    )


def _vehicle(v, home: str) -> Vehicle:
    return Vehicle(
        vehicle_id=v.vehicle_id,
        vehicle_type=v.vehicle_type,
        capacity_weight_g=int(v.capacity_weight_g),
        capacity_volume_cm3=int(v.capacity_volume_cm3),
        shift_start_s=int(v.shift_start_s),
        shift_end_s=int(v.shift_end_s),
        speed_kmh=float(v.speed_kmh),
        cost_per_km_eur=float(v.cost_per_km_eur),
        cost_per_hour_eur=float(v.cost_per_hour_eur),
        cost_per_day_eur=float(v.cost_per_day_eur),
        skills=_skills(v.skills),
        capacity_parcels=_int_or_none(v.capacity_parcels),
        start_depot_id=_other_depot(v.start_depot_id, home),
        end_depot_id=_other_depot(v.end_depot_id, home),
        max_duration_s=_int_or_none(v.max_duration_s),
        max_distance_m=_int_or_none(v.max_distance_m),
        max_overtime_s=int(v.max_overtime_s),
        overtime_cost_per_hour_eur=float(v.overtime_cost_per_hour_eur),
        break_s=int(v.break_s),
        break_earliest_s=_int_or_none(v.break_earliest_s),
        break_latest_s=_int_or_none(v.break_latest_s),
        max_reloads=int(v.max_reloads),
    )


def read_problems(conn: duckdb.DuckDBPyConnection, service_date: str) -> list[Problem]:
    """One planning problem per depot that has orders or vehicles on the service date.

    Reads the solver's input contract: ``marts.dim_depots``, ``marts.fct_orders_to_plan`` and
    ``marts.fct_vehicle_days``. A problem's :attr:`~solver.Problem.depots` are the other depots its vehicles
    start or end at (in depot id order); a vehicle's start or end at its own depot is ``None``.
    """
    depots = conn.execute(
        f"select depot_id, lat, lon, opens_s, closes_s, {_columns(conn, 'dim_depots')} "
        "from marts.dim_depots order by depot_id"
    ).fetchdf()
    orders = conn.execute(
        f"""select depot_id, order_id, lat, lon, weight_g, volume_cm3, service_s, tw_start_s, tw_end_s,
                   required_skills, priority, order_type, {_columns(conn, "fct_orders_to_plan")}
            from marts.fct_orders_to_plan where service_date = cast(? as date) order by depot_id, order_id""",
        [service_date],
    ).fetchdf()
    vehicles = conn.execute(
        f"""select depot_id, vehicle_id, vehicle_type, capacity_weight_g, capacity_volume_cm3, shift_start_s,
                   shift_end_s, speed_kmh, cost_per_km_eur, cost_per_hour_eur, cost_per_day_eur, skills,
                   {_columns(conn, "fct_vehicle_days")}
            from marts.fct_vehicle_days where service_date = cast(? as date) order by depot_id, vehicle_id""",
        [service_date],
    ).fetchdf()
    by_id = {row.depot_id: _depot(row) for row in depots.itertuples(index=False)}

    problems = []
    for depot_id, depot in by_id.items():
        depot_orders = orders[orders.depot_id == depot_id]
        depot_vehicles = vehicles[vehicles.depot_id == depot_id]
        if depot_orders.empty and depot_vehicles.empty:
            continue
        fleet = tuple(_vehicle(v, depot_id) for v in depot_vehicles.itertuples(index=False))
        others = sorted({end for v in fleet for end in (v.start_depot_id, v.end_depot_id) if end is not None})
        problems.append(
            Problem(
                depot=depot,
                orders=tuple(_order(o) for o in depot_orders.itertuples(index=False)),
                vehicles=fleet,
                depots=tuple(by_id[other] for other in others),
            )
        )
    return problems


def write_plan(
    conn: duckdb.DuckDBPyConnection,
    service_date: str,
    kind: str,
    plans: Sequence[Plan],
    config: SolveConfig,
    runtime_s: float,
    model_versions: dict[str, str | None] | None = None,
    *,
    reason: str | None = None,
    parent_plan_id: str | None = None,
    as_of_s: int | None = None,
    n_moved: int | None = None,
) -> str:
    """Store one plan version (all depots of a date) in one transaction, with status ``pending``.

    Versions of the date and kind left ``pending`` by a run that died before marking them become ``abandoned``
    in the same transaction (:func:`abandon_pending_plans`).

    ``model_versions`` maps the columns of :data:`MODEL_VERSION_COLUMNS` to the learned model versions used.
    A re-plan (kind ``replan``) also records why it was made (``reason``), the plan it replaces
    (``parent_plan_id``), the live state it started from (``as_of_s``, seconds since local midnight) and how many
    orders changed vehicle (``n_moved``); a morning plan leaves them null. Each stop's ``status``
    (:data:`STOP_STATUSES`) is stored as the solver set it, ``planned`` when it sets none.

    Returns
    -------
    str
        The new plan id, ``<date>-<kind>-v<version>``.
    """
    ensure_plans_schema(conn)
    route_rows, stop_rows, reload_rows, unassigned_rows, solve_rows = [], [], [], [], []
    for plan in plans:
        solve_rows.append(
            {
                "depot_id": plan.depot_id,
                "n_orders": plan.stats.n_orders,
                "n_vehicles": plan.stats.n_vehicles,
                "runtime_s": plan.stats.runtime_s,
                "iterations": plan.stats.iterations,
                "objective": float(plan.stats.objective),
                "feasible": plan.stats.feasible,
                "stopped_by": plan.stats.stopped_by,
                "build_s": plan.stats.build_s,
                "search_s": plan.stats.search_s,
            }
        )
        for route in plan.routes:
            route_rows.append(
                {
                    "depot_id": plan.depot_id,
                    "route_id": route.route_id,
                    "vehicle_id": route.vehicle_id,
                    "vehicle_type": route.vehicle_type,
                    "n_stops": len(route.stops),
                    "start_s": route.start_s,
                    "end_s": route.end_s,
                    "distance_m": route.distance_m,
                    "duration_s": route.duration_s,
                    "weight_g": route.weight_g,
                    "volume_cm3": route.volume_cm3,
                    "cost_eur": route.cost_eur,
                    "overtime_s": route.overtime_s,
                    "start_depot_id": route.start_depot_id,
                    "end_depot_id": route.end_depot_id,
                    "n_reloads": len(route.reloads),
                    "break_after_sequence": route.break_after_sequence,
                    "break_start_s": route.break_start_s,
                }
            )
            for stop in route.stops:
                stop_rows.append(
                    {
                        "route_id": route.route_id,
                        "vehicle_id": route.vehicle_id,
                        **asdict(stop),
                        "status": getattr(stop, "status", "planned"),
                    }
                )
            for reload in route.reloads:
                reload_rows.append({"route_id": route.route_id, **asdict(reload)})
        for item in plan.unassigned:
            unassigned_rows.append(
                {
                    "depot_id": plan.depot_id,
                    "order_id": item.order_id,
                    "reason_code": item.reason_code,
                    "reason": item.reason,
                }
            )

    n_assigned = len({row["order_id"] for row in stop_rows if row["status"] != "failed"})
    conn.execute("begin transaction")
    try:
        abandon_pending_plans(conn, service_date, kind)
        version = conn.execute(
            "select coalesce(max(version), 0) + 1 from plans.plan_runs "
            "where service_date = cast(? as date) and kind = ?",
            [service_date, kind],
        ).fetchone()[0]
        plan_id = f"{service_date}-{kind}-v{version}"
        conn.execute(
            "insert into plans.plan_runs (plan_id, service_date, kind, version, created_at_utc, seed, time_budget_s, "
            "parameters, runtime_s, objective, n_orders, n_assigned, n_unassigned, status, travel_model_version, "
            "service_model_version, availability_model_version, reason, parent_plan_id, as_of_s, n_moved) "
            "values (?, cast(? as date), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
            [
                plan_id,
                service_date,
                kind,
                version,
                datetime.now(UTC),
                config.seed,
                config.time_budget_s,
                json.dumps(asdict(config), sort_keys=True, default=str),
                runtime_s,
                float(sum(p.stats.objective for p in plans)),
                n_assigned + len(unassigned_rows),
                n_assigned,
                len(unassigned_rows),
                *[(model_versions or {}).get(column) for column in MODEL_VERSION_COLUMNS],
                reason,
                parent_plan_id,
                as_of_s,
                n_moved,
            ],
        )
        _insert(
            conn,
            "plans.solves",
            plan_id,
            solve_rows,
            [
                "depot_id",
                "n_orders",
                "n_vehicles",
                "runtime_s",
                "iterations",
                "objective",
                "feasible",
                "stopped_by",
                "build_s",
                "search_s",
            ],
        )
        _insert(
            conn,
            "plans.routes",
            plan_id,
            route_rows,
            [
                "depot_id",
                "route_id",
                "vehicle_id",
                "vehicle_type",
                "n_stops",
                "start_s",
                "end_s",
                "distance_m",
                "duration_s",
                "weight_g",
                "volume_cm3",
                "cost_eur",
                "overtime_s",
                "start_depot_id",
                "end_depot_id",
                "n_reloads",
                "break_after_sequence",
                "break_start_s",
            ],
        )
        _insert(
            conn,
            "plans.stops",
            plan_id,
            stop_rows,
            [
                "route_id",
                "vehicle_id",
                "sequence",
                "order_id",
                "arrival_s",
                "service_start_s",
                "departure_s",
                "wait_s",
                "leg_distance_m",
                "leg_duration_s",
                "late_s",
                "in_preferred_window",
                "trip",
                "status",
            ],
        )
        _insert(
            conn,
            "plans.reloads",
            plan_id,
            reload_rows,
            ["route_id", "after_sequence", "arrival_s", "departure_s", "leg_distance_m", "leg_duration_s"],
        )
        _insert(
            conn,
            "plans.unassigned",
            plan_id,
            unassigned_rows,
            ["depot_id", "order_id", "reason_code", "reason"],
        )
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return plan_id


_ROUTE_DEFAULTS = ("start_depot_id", "end_depot_id", "break_after_sequence", "break_start_s")
_NULLABLE_INT_COLUMNS = frozenset({"break_after_sequence", "break_start_s"})


def _insert(conn: duckdb.DuckDBPyConnection, table: str, plan_id: str, rows: list[dict], columns: list[str]) -> None:
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=columns)
    for column in _NULLABLE_INT_COLUMNS.intersection(columns):
        frame[column] = frame[column].astype("Int64")  # None stays null, not a float NaN
    frame.insert(0, "plan_id", plan_id)
    conn.register("_plan_rows", frame)
    try:
        conn.execute(f"insert into {table} by name select * from _plan_rows")
    finally:
        conn.unregister("_plan_rows")


def abandon_pending_plans(conn: duckdb.DuckDBPyConnection, service_date: str, kind: str) -> list[str]:
    """Mark the date's ``pending`` plan versions of ``kind`` as ``abandoned``; returns their plan ids.

    A plan is ``pending`` only between :func:`write_plan` and :func:`set_plan_status` of one planning step, and
    planning steps of a warehouse run one at a time (the `warehouse` pool and DuckDB's single writer). So a version
    still pending when the next one is written belongs to a run that died in between (killed, out of memory): it
    was never validated and must never become current. :func:`write_plan` calls this in its transaction.
    """
    abandoned = conn.execute(
        "update plans.plan_runs set status = 'abandoned' "
        "where service_date = cast(? as date) and kind = ? and status = 'pending' returning plan_id",
        [service_date, kind],
    ).fetchall()
    return sorted(plan_id for (plan_id,) in abandoned)


def set_plan_status(conn: duckdb.DuckDBPyConnection, plan_id: str, status: str) -> None:
    """Mark a stored plan ``valid`` or ``invalid``; only a valid plan can become a date's current plan."""
    conn.execute("update plans.plan_runs set status = ? where plan_id = ?", [status, plan_id])


def read_plan(conn: duckdb.DuckDBPyConnection, plan_id: str) -> dict[str, Plan]:
    """Read a stored plan back into solver dataclasses, one ``Plan`` per depot (stats are not restored)."""
    from solver import SolveStats

    routes = conn.execute(
        "select * from plans.routes where plan_id = ? order by depot_id, route_id", [plan_id]
    ).fetchdf()
    stops = conn.execute("select * from plans.stops where plan_id = ? order by route_id, sequence", [plan_id]).fetchdf()
    unassigned = conn.execute(
        "select * from plans.unassigned where plan_id = ? order by depot_id, order_id", [plan_id]
    ).fetchdf()
    depots = conn.execute("select depot_id from plans.solves where plan_id = ? order by depot_id", [plan_id]).fetchall()
    # A warehouse from before issue 6 (or 5) has no reloads table and none of the route and stop columns they
    # added: such plans read as single trips at the plan's depot, without a break, on time.
    has_reloads = conn.execute(
        "select count(*) from duckdb_tables() where schema_name = 'plans' and table_name = 'reloads' "
        "and database_name = current_database()"
    ).fetchone()[0]
    reloads = (
        conn.execute(
            "select * from plans.reloads where plan_id = ? order by route_id, after_sequence", [plan_id]
        ).fetchdf()
        if has_reloads
        else pd.DataFrame(columns=["route_id"])
    )
    routes = routes.reindex(columns=routes.columns.union(["overtime_s", *_ROUTE_DEFAULTS], sort=False))
    stops = stops.reindex(columns=stops.columns.union(["late_s", "in_preferred_window", "trip", "status"], sort=False))
    # PlannedStop.status comes with re-planning (issue 7); a solver package without it stores every stop planned.
    with_status = "status" in PlannedStop.__dataclass_fields__
    reloads_by_route: dict[str, list[PlannedReload]] = {}
    for r in reloads.itertuples(index=False):
        reloads_by_route.setdefault(r.route_id, []).append(
            PlannedReload(
                after_sequence=int(r.after_sequence),
                arrival_s=int(r.arrival_s),
                departure_s=int(r.departure_s),
                leg_distance_m=int(r.leg_distance_m),
                leg_duration_s=int(r.leg_duration_s),
            )
        )

    stops_by_route: dict[str, list[PlannedStop]] = {}
    for s in stops.itertuples(index=False):
        status = {"status": "planned" if pd.isna(s.status) else s.status} if with_status else {}
        stops_by_route.setdefault(s.route_id, []).append(
            PlannedStop(
                order_id=s.order_id,
                sequence=int(s.sequence),
                arrival_s=int(s.arrival_s),
                service_start_s=int(s.service_start_s),
                departure_s=int(s.departure_s),
                wait_s=int(s.wait_s),
                leg_distance_m=int(s.leg_distance_m),
                leg_duration_s=int(s.leg_duration_s),
                late_s=int(s.late_s) if pd.notna(s.late_s) else 0,
                in_preferred_window=None if pd.isna(s.in_preferred_window) else bool(s.in_preferred_window),
                trip=int(s.trip) if pd.notna(s.trip) else 1,
                **status,
            )
        )
    plans = {}
    for (depot_id,) in depots:
        depot_routes = routes[routes.depot_id == depot_id]
        depot_unassigned = unassigned[unassigned.depot_id == depot_id]
        plans[depot_id] = Plan(
            depot_id=depot_id,
            routes=tuple(
                PlannedRoute(
                    route_id=r.route_id,
                    vehicle_id=r.vehicle_id,
                    vehicle_type=r.vehicle_type,
                    stops=tuple(stops_by_route.get(r.route_id, [])),
                    start_s=int(r.start_s),
                    end_s=int(r.end_s),
                    distance_m=int(r.distance_m),
                    duration_s=int(r.duration_s),
                    weight_g=int(r.weight_g),
                    volume_cm3=int(r.volume_cm3),
                    cost_eur=float(r.cost_eur),
                    overtime_s=int(r.overtime_s) if pd.notna(r.overtime_s) else 0,
                    start_depot_id="" if pd.isna(r.start_depot_id) else r.start_depot_id,
                    end_depot_id="" if pd.isna(r.end_depot_id) else r.end_depot_id,
                    reloads=tuple(reloads_by_route.get(r.route_id, [])),
                    break_after_sequence=_int_or_none(r.break_after_sequence),
                    break_start_s=_int_or_none(r.break_start_s),
                )
                for r in depot_routes.itertuples(index=False)
            ),
            unassigned=tuple(
                Unassigned(order_id=u.order_id, reason_code=u.reason_code, reason=u.reason)
                for u in depot_unassigned.itertuples(index=False)
            ),
            stats=SolveStats(
                runtime_s=0.0,
                iterations=0,
                objective=0,
                feasible=True,
                n_orders=0,
                n_vehicles=0,
                stopped_by="stored",
            ),
        )
    return plans


def current_plan_id(conn: duckdb.DuckDBPyConnection, service_date: str) -> str | None:
    """The date's current plan: its newest valid version of a kind in :data:`CURRENT_PLAN_KINDS`.

    Newest by creation time (then version), so a re-plan replaces the morning plan and a morning plan made again
    after it replaces the re-plan. The plan marts select the same plan (``marts.dim_plan_versions.is_current``).

    Returns
    -------
    str or None
        The plan id, or None when the date has no valid plan (or the warehouse no plans yet).
    """
    exists = conn.execute(
        "select count(*) from duckdb_tables() where schema_name = 'plans' and table_name = 'plan_runs' "
        "and database_name = current_database()"
    ).fetchone()[0]
    if not exists:
        return None
    row = conn.execute(
        "select plan_id from plans.plan_runs "
        "where service_date = cast(? as date) and status = 'valid' and kind in (select unnest(?)) "
        "order by created_at_utc desc, version desc limit 1",
        [service_date, list(CURRENT_PLAN_KINDS)],
    ).fetchone()
    return row[0] if row else None
