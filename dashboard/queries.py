"""All SQL of the dashboard: query functions over one serving snapshot.

Every function takes ``snapshot_key`` (:attr:`dashboard.snapshot.Snapshot.key`, the snapshot directory, which
embeds the snapshot id) first, so cached results are keyed by the snapshot and a new publish shows up on the
next rerun. Each call opens its own in-memory DuckDB connection and reads the snapshot's Parquet files; the
warehouse file is never opened. Values, including the Parquet paths, reach DuckDB as bound parameters.

``service_date`` is a :class:`datetime.date`; ``depot_id=None`` means all depots.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboard.snapshot import DATA_HEALTH_TABLES, has_table, table_path

# A snapshot directory never changes after publication; the TTL only bounds how long old results stay in
# memory after a new publish.
CACHE_TTL = "10m"

# Learned models (contract, section 3): optional files of a snapshot published from a warehouse with the
# ``models`` schema; each model's tables hold its newest version only.
MODEL_TABLES = ("model_versions", "travel_time_factors", "service_times", "availability", "recommended_windows")

# A plan made with the learned models adds columns to the plan tables: ``planned_stops.late_s`` (> 0: the
# re-timed arrival misses the window by that many seconds) and ``in_preferred_window``,
# ``planned_routes.overtime_s``, and the model versions in ``plan_runs``. A snapshot of older plans lacks them;
# the queries read each plan table unioned by name with a typed empty row set of those columns, so a missing
# column reads as null. Likewise the constraint columns of issue 6: ``planned_routes.start_depot_id,
# end_depot_id, n_reloads, break_after_sequence, break_start_s, break_s`` and ``planned_stops.trip, tw2_start_s,
# tw2_end_s, shipment_id``.

_ROUTES_SQL = """
with routes as (
    select * from read_parquet($planned_routes)
    union all by name
    select
        null::bigint as overtime_s,
        null::varchar as start_depot_id,
        null::varchar as end_depot_id,
        null::bigint as n_reloads,
        null::bigint as break_after_sequence,
        null::bigint as break_start_s,
        null::bigint as break_s
    where false
)

select
    r.plan_id,
    cast(r.service_date as date) as service_date,
    r.depot_id,
    d.name as depot_name,
    r.route_id,
    r.vehicle_id,
    r.vehicle_type,
    r.n_stops,
    r.start_s,
    r.end_s,
    r.distance_m,
    r.duration_s,
    r.weight_g,
    r.volume_cm3,
    r.cost_eur,
    r.overtime_s,
    r.start_depot_id,
    r.end_depot_id,
    r.n_reloads,
    r.break_after_sequence,
    r.break_start_s,
    r.break_s
from routes as r
left join read_parquet($depots) as d on d.depot_id = r.depot_id
where cast(r.service_date as date) = $service_date
    and ($depot_id::varchar is null or r.depot_id = $depot_id)
order by r.depot_id, r.vehicle_id, r.route_id
"""

# Planned stops with the columns later plans added (learned re-timing, issue 6 constraints), null in older snapshots.
_PLANNED_STOPS_CTE = """with stops as (
    select * from read_parquet($planned_stops)
    union all by name
    select
        null::bigint as late_s,
        null::boolean as in_preferred_window,
        null::bigint as trip,
        null::bigint as tw2_start_s,
        null::bigint as tw2_end_s,
        null::varchar as shipment_id
    where false
)
"""

_STOPS_SQL = (
    _PLANNED_STOPS_CTE
    + """
select
    plan_id,
    cast(service_date as date) as service_date,
    depot_id,
    route_id,
    vehicle_id,
    sequence,
    order_id,
    customer_id,
    street,
    postcode,
    town,
    lat,
    lon,
    tw_start_s,
    tw_end_s,
    arrival_s,
    service_start_s,
    departure_s,
    wait_s,
    parcels,
    weight_g,
    volume_cm3,
    notes,
    late_s,
    in_preferred_window,
    trip,
    tw2_start_s,
    tw2_end_s,
    shipment_id
from stops
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
order by depot_id, vehicle_id, route_id, sequence
"""
)

_UNASSIGNED_SQL = """
select
    u.plan_id,
    cast(u.service_date as date) as service_date,
    u.depot_id,
    d.name as depot_name,
    u.order_id,
    u.street,
    u.postcode,
    u.town,
    u.lat,
    u.lon,
    u.reason_code,
    u.reason
from read_parquet($unassigned) as u
left join read_parquet($depots) as d on d.depot_id = u.depot_id
where cast(u.service_date as date) = $service_date
    and ($depot_id::varchar is null or u.depot_id = $depot_id)
order by u.depot_id, u.reason_code, u.order_id
"""

# Cost per delivery over several depots is the stop-weighted mean of the published per-depot values, so the
# figure for one depot is exactly the published one whatever cost model the publisher used.
_SUMMARY_SQL = """
select
    count(*) as depots,
    coalesce(sum(routes), 0) as routes,
    coalesce(sum(stops), 0) as stops,
    coalesce(sum(distance_km), 0) as distance_km,
    coalesce(sum(duration_h), 0) as duration_h,
    coalesce(sum(cost_eur), 0) as cost_eur,
    sum(cost_per_delivery_eur * stops) / nullif(sum(stops), 0) as cost_per_delivery_eur,
    coalesce(sum(unassigned), 0) as unassigned
from read_parquet($plan_kpis)
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
"""

_KPIS_BY_DATE_SQL = """
select
    cast(k.service_date as date) as service_date,
    k.depot_id,
    d.name as depot_name,
    k.plan_id,
    p.kind as plan_kind,
    p.version as plan_version,
    p.created_at_utc as planned_at_utc,
    k.routes,
    k.stops,
    k.distance_km,
    k.duration_h,
    k.cost_eur,
    k.cost_per_delivery_eur,
    k.unassigned
from read_parquet($plan_kpis) as k
left join read_parquet($depots) as d on d.depot_id = k.depot_id
left join read_parquet($plan_runs) as p on p.plan_id = k.plan_id
order by service_date desc, k.depot_id
"""

_SERVICE_DATES_SQL = """
select distinct cast(service_date as date) as service_date
from read_parquet($plan_kpis)
order by service_date
"""

_DEPOTS_SQL = """
select depot_id, name, lat, lon
from read_parquet($depots)
where $depot_id::varchar is null or depot_id = $depot_id
order by depot_id
"""

_ROUTE_STOPS_SQL = (
    _PLANNED_STOPS_CTE
    + """
select
    plan_id,
    route_id,
    vehicle_id,
    sequence,
    order_id,
    street,
    postcode,
    town,
    tw_start_s,
    tw_end_s,
    arrival_s,
    parcels,
    weight_g,
    notes,
    late_s,
    in_preferred_window
from stops
where cast(plan_id as varchar) = $plan_id and cast(route_id as varchar) = $route_id
order by sequence
"""
)


_PLAN_MODEL_VERSIONS_SQL = """
with runs as (
    select * from read_parquet($plan_runs)
    union all by name
    select
        null::varchar as travel_model_version,
        null::varchar as service_model_version,
        null::varchar as availability_model_version
    where false
)

select
    k.depot_id,
    k.plan_id,
    p.travel_model_version,
    p.service_model_version,
    p.availability_model_version
from read_parquet($plan_kpis) as k
left join runs as p on p.plan_id = k.plan_id
where cast(k.service_date as date) = $service_date
    and ($depot_id::varchar is null or k.depot_id = $depot_id)
order by k.depot_id
"""


def _table_file(snapshot_key: str, table: str) -> str:
    """Path of a serving table, model tables and the route geometry included (:func:`dashboard.snapshot.table_path`
    checks the rest)."""
    if table in MODEL_TABLES or table in LIVE_TABLES or table == ROUTE_GEOMETRY_TABLE:
        return str(Path(snapshot_key) / f"{table}.parquet")
    return table_path(snapshot_key, table)


def _bind(snapshot_key: str, tables: tuple[str, ...], params: dict[str, Any]) -> dict[str, Any]:
    return {name: _table_file(snapshot_key, name) for name in tables} | params


def _frame(sql: str, snapshot_key: str, tables: tuple[str, ...], **params: Any) -> pd.DataFrame:
    """Run ``sql`` on a fresh in-memory connection, binding table paths and ``params`` by name."""
    with duckdb.connect(":memory:") as connection:
        return connection.execute(sql, _bind(snapshot_key, tables, params)).df()


def _records(sql: str, snapshot_key: str, tables: tuple[str, ...], **params: Any) -> list[dict[str, Any]]:
    """Like :func:`_frame`, returning plain Python values (dates as :class:`datetime.date`, counts as int)."""
    with duckdb.connect(":memory:") as connection:
        cursor = connection.execute(sql, _bind(snapshot_key, tables, params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def service_dates(snapshot_key: str) -> list[dt.date]:
    """Service dates with a current plan in the snapshot, oldest first."""
    return [record["service_date"] for record in _records(_SERVICE_DATES_SQL, snapshot_key, ("plan_kpis",))]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def depots(snapshot_key: str, depot_id: str | None = None) -> pd.DataFrame:
    """Depots (all, or the one given): ``depot_id, name, lat, lon``, ordered by id."""
    return _frame(_DEPOTS_SQL, snapshot_key, ("depots",), depot_id=depot_id)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def plan_summary(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> dict[str, Any]:
    """KPI totals of the current plan for one service date, one depot or all.

    Returns
    -------
    dict
        ``depots`` (number of depot plans found; 0 = no plan), ``routes``, ``stops``, ``distance_km``,
        ``duration_h``, ``cost_eur``, ``cost_per_delivery_eur`` (EUR, None without stops), ``unassigned``.
    """
    (record,) = _records(_SUMMARY_SQL, snapshot_key, ("plan_kpis",), service_date=service_date, depot_id=depot_id)
    return record


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def kpis_by_date(snapshot_key: str) -> pd.DataFrame:
    """Published plan KPIs, one row per service date and depot, newest date first, with the plan version."""
    return _frame(_KPIS_BY_DATE_SQL, snapshot_key, ("plan_kpis", "depots", "plan_runs"))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def planned_routes(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Routes of the current plan, ordered by depot and vehicle (the order that fixes route colours), with
    ``overtime_s`` (null for plans made before re-timing), and ``start_depot_id, end_depot_id, n_reloads,
    break_after_sequence, break_start_s, break_s`` (null for plans made before issue 6)."""
    return _frame(
        _ROUTES_SQL,
        snapshot_key,
        ("planned_routes", "depots"),
        service_date=service_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def planned_stops(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Planned stops of the current plan, in route and sequence order, with ``late_s`` (> 0: the re-timed arrival
    misses the window by that many seconds) and ``in_preferred_window``; both null for plans made before
    re-timing. ``trip, tw2_start_s, tw2_end_s, shipment_id`` are null for plans made before issue 6."""
    return _frame(_STOPS_SQL, snapshot_key, ("planned_stops",), service_date=service_date, depot_id=depot_id)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def unassigned_orders(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Orders the current plan could not serve, with reason code and reason."""
    return _frame(
        _UNASSIGNED_SQL,
        snapshot_key,
        ("unassigned", "depots"),
        service_date=service_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def route_stops(snapshot_key: str, plan_id: str, route_id: str) -> pd.DataFrame:
    """Stops of one route in sequence order: the input of the driver manifest (with ``late_s`` as
    :func:`planned_stops`)."""
    return _frame(_ROUTE_STOPS_SQL, snapshot_key, ("planned_stops",), plan_id=str(plan_id), route_id=str(route_id))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def plan_model_versions(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """The learned-model versions each depot's current plan of the date used: ``depot_id, plan_id,
    travel_model_version, service_model_version, availability_model_version`` (null: planned without it)."""
    return _frame(
        _PLAN_MODEL_VERSIONS_SQL, snapshot_key, ("plan_kpis", "plan_runs"), service_date=service_date, depot_id=depot_id
    )


# --- road geometry of the planned routes (contract, section 3): optional table ---------------------------------
# Published when the plans drove on a road network; without it (or for a route without rows) the map draws
# straight lines.
ROUTE_GEOMETRY_TABLE = "route_geometry"
ROUTE_GEOMETRY_COLUMNS = ("plan_id", "route_id", "seq", "lon", "lat")
_ROUTE_GEOMETRY_SQL = """
select plan_id, route_id, seq, lon, lat
from read_parquet($route_geometry)
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
order by plan_id, route_id, seq
"""


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def route_geometry(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Road polylines of the current plan's routes (:data:`ROUTE_GEOMETRY_COLUMNS`, one row per vertex in
    ``seq`` order); empty when the snapshot has no ``route_geometry.parquet``."""
    return _optional_frame(
        _ROUTE_GEOMETRY_SQL,
        snapshot_key,
        (ROUTE_GEOMETRY_TABLE,),
        ROUTE_GEOMETRY_COLUMNS,
        service_date=service_date,
        depot_id=depot_id,
    )


# --- execution data (contract, section 4): optional tables -------------------------------------------------
#
# Range metrics are ratios of sums over the facts, so they are exact for any date range and depot choice, and
# they follow the definitions of marts.fct_delivery_kpis: on-time rate = attempted stops reached before the
# window closed / attempted (delivered or failed); first-attempt success = delivered at the first attempt /
# attempted; cost per delivery = actual route cost (EUR) / delivered; stops per hour = attempted stops / route
# hours (actual depot departure to return); km per stop = driven km / attempted stops; average rating over
# rated orders.
# A missing optional file gives the empty result of the same columns (the ``*_COLUMNS`` tuples below).

_EXECUTION_DATES_SQL = """
select distinct cast(service_date as date) as service_date
from read_parquet($deliveries)
order by service_date
"""

PERFORMANCE_SUMMARY_COLUMNS = (
    "orders",
    "attempted",
    "deliveries",
    "failed",
    "not_attempted",
    "on_time",
    "on_time_rate",
    "first_attempt_success_rate",
    "cost_eur",
    "cost_per_delivery_eur",
    "avg_rating",
    "ratings",
)
_PERFORMANCE_SUMMARY_SQL = """
with orders as (
    select outcome, is_on_time, is_first_attempt_success, rating
    from read_parquet($deliveries)
    where cast(service_date as date) between $start_date and $end_date
        and ($depot_id::varchar is null or depot_id = $depot_id)
),

costs as (
    select sum(actual_cost_eur) as cost_eur
    from read_parquet($route_days)
    where cast(service_date as date) between $start_date and $end_date
        and ($depot_id::varchar is null or depot_id = $depot_id)
),

totals as (
    select
        count(*) as orders,
        count(*) filter (where outcome in ('delivered', 'failed')) as attempted,
        count(*) filter (where outcome = 'delivered') as deliveries,
        count(*) filter (where outcome = 'failed') as failed,
        count(*) filter (where outcome = 'not_attempted') as not_attempted,
        count(*) filter (where outcome in ('delivered', 'failed') and is_on_time) as on_time,
        count(*) filter (
            where outcome in ('delivered', 'failed') and is_first_attempt_success
        ) as first_attempt_successes,
        avg(rating) as avg_rating,
        count(rating) as ratings
    from orders
)

select
    t.orders,
    t.attempted,
    t.deliveries,
    t.failed,
    t.not_attempted,
    t.on_time,
    t.on_time / nullif(t.attempted, 0) as on_time_rate,
    t.first_attempt_successes / nullif(t.attempted, 0) as first_attempt_success_rate,
    c.cost_eur,
    c.cost_eur / nullif(t.deliveries, 0) as cost_per_delivery_eur,
    t.avg_rating,
    t.ratings
from totals as t
cross join costs as c
"""

DAILY_KPI_COLUMNS = (
    "service_date",
    "depot_id",
    "depot_name",
    "orders",
    "attempted",
    "delivered",
    "on_time_rate",
    "cost_per_delivery_eur",
    "first_attempt_success_rate",
    "avg_rating",
    "ratings",
)
_DAILY_KPIS_SQL = """
select
    cast(k.service_date as date) as service_date,
    k.depot_id,
    coalesce(d.name, k.depot_id) as depot_name,
    k.orders,
    k.attempted,
    k.delivered,
    k.on_time_rate,
    k.cost_per_delivery_eur,
    k.first_attempt_success_rate,
    k.avg_rating,
    k.ratings
from read_parquet($delivery_kpis) as k
left join read_parquet($depots) as d on d.depot_id = k.depot_id
where k.dimension = 'depot'
    and cast(k.service_date as date) between $start_date and $end_date
    and ($depot_id::varchar is null or k.depot_id = $depot_id)
order by service_date, k.depot_id
"""

DRIVER_PERFORMANCE_COLUMNS = (
    "driver_id",
    "route_days",
    "deliveries",
    "on_time_rate",
    "first_attempt_success_rate",
    "stops_per_hour",
    "km_per_stop",
    "avg_rating",
    "ratings",
)
_DRIVER_PERFORMANCE_SQL = """
with orders as (
    select
        driver_id,
        count(*) filter (where outcome = 'delivered') as deliveries,
        count(*) filter (where outcome in ('delivered', 'failed') and is_on_time) as on_time,
        count(*) filter (where outcome in ('delivered', 'failed')) as attempted,
        count(*) filter (
            where outcome in ('delivered', 'failed') and is_first_attempt_success
        ) as first_attempt_successes,
        avg(rating) as avg_rating,
        count(rating) as ratings
    from read_parquet($deliveries)
    where driver_id is not null
        and cast(service_date as date) between $start_date and $end_date
        and ($depot_id::varchar is null or depot_id = $depot_id)
    group by driver_id
),

shifts as (
    select
        driver_id,
        count(*) as route_days,
        sum(stops_attempted) as stops_attempted,
        sum(actual_end_s - actual_start_s) / 3600 as route_h,
        sum(actual_km) as actual_km
    from read_parquet($route_days)
    where driver_id is not null
        and cast(service_date as date) between $start_date and $end_date
        and ($depot_id::varchar is null or depot_id = $depot_id)
    group by driver_id
)

select
    coalesce(o.driver_id, s.driver_id) as driver_id,
    coalesce(s.route_days, 0) as route_days,
    coalesce(o.deliveries, 0) as deliveries,
    o.on_time / nullif(o.attempted, 0) as on_time_rate,
    o.first_attempt_successes / nullif(o.attempted, 0) as first_attempt_success_rate,
    s.stops_attempted / nullif(s.route_h, 0) as stops_per_hour,
    s.actual_km / nullif(s.stops_attempted, 0) as km_per_stop,
    o.avg_rating,
    coalesce(o.ratings, 0) as ratings
from orders as o
full join shifts as s on s.driver_id = o.driver_id
order by deliveries desc, driver_id
"""

ON_TIME_BY_HOUR_COLUMNS = ("hour", "attempted", "on_time", "on_time_rate")
# The hour of the actual arrival, local time: when the customer saw the van.
_ON_TIME_BY_HOUR_SQL = """
with attempted as (
    select cast(floor(actual_arrival_s / 3600) as integer) % 24 as hour, is_on_time
    from read_parquet($deliveries)
    where outcome in ('delivered', 'failed')
        and actual_arrival_s is not null
        and cast(service_date as date) between $start_date and $end_date
        and ($depot_id::varchar is null or depot_id = $depot_id)
)

select
    hour,
    count(*) as attempted,
    count(*) filter (where is_on_time) as on_time,
    count(*) filter (where is_on_time) / count(*) as on_time_rate
from attempted
group by hour
order by hour
"""

FAILURE_REASON_COLUMNS = ("outcome", "reason", "orders")
_FAILURE_REASONS_SQL = """
with missed as (
    select
        outcome,
        case when outcome = 'failed' then coalesce(failure_reason, 'unknown') else 'not_attempted' end as reason
    from read_parquet($deliveries)
    where outcome in ('failed', 'not_attempted')
        and cast(service_date as date) between $start_date and $end_date
        and ($depot_id::varchar is null or depot_id = $depot_id)
)

select outcome, reason, count(*) as orders
from missed
group by outcome, reason
order by orders desc, reason
"""

DAY_DELIVERY_COLUMNS = (
    "service_date",
    "order_id",
    "depot_id",
    "vehicle_id",
    "driver_id",
    "route_id",
    "postcode",
    "town",
    "lat",
    "lon",
    "tw_start_s",
    "tw_end_s",
    "is_all_day",
    "planned_arrival_s",
    "actual_arrival_s",
    "actual_departure_s",
    "is_on_time",
    "minutes_late",
    "outcome",
    "failure_reason",
    "attempt",
    "rating",
    "late_cause",
)
_DAY_DELIVERIES_SQL = """
select
    cast(service_date as date) as service_date,
    order_id,
    depot_id,
    vehicle_id,
    driver_id,
    route_id,
    postcode,
    town,
    lat,
    lon,
    tw_start_s,
    tw_end_s,
    is_all_day,
    planned_arrival_s,
    actual_arrival_s,
    actual_departure_s,
    is_on_time,
    minutes_late,
    outcome,
    failure_reason,
    attempt,
    rating,
    late_cause
from read_parquet($deliveries)
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
order by depot_id, vehicle_id nulls last, planned_arrival_s, order_id
"""

DAY_ROUTE_COLUMNS = (
    "service_date",
    "depot_id",
    "depot_name",
    "vehicle_id",
    "vehicle_type",
    "driver_id",
    "route_id",
    "planned_km",
    "actual_km",
    "planned_start_s",
    "planned_end_s",
    "actual_start_s",
    "actual_end_s",
    "departure_delay_min",
    "shift_h",
    "stops_planned",
    "stops_attempted",
    "delivered",
    "failed",
    "planned_cost_eur",
    "actual_cost_eur",
)
_DAY_ROUTES_SQL = """
select
    cast(r.service_date as date) as service_date,
    r.depot_id,
    coalesce(d.name, r.depot_id) as depot_name,
    r.vehicle_id,
    r.vehicle_type,
    r.driver_id,
    r.route_id,
    r.planned_km,
    r.actual_km,
    r.planned_start_s,
    r.planned_end_s,
    r.actual_start_s,
    r.actual_end_s,
    r.departure_delay_min,
    r.shift_h,
    r.stops_planned,
    r.stops_attempted,
    r.delivered,
    r.failed,
    r.planned_cost_eur,
    r.actual_cost_eur
from read_parquet($route_days) as r
left join read_parquet($depots) as d on d.depot_id = r.depot_id
where cast(r.service_date as date) = $service_date
    and ($depot_id::varchar is null or r.depot_id = $depot_id)
order by r.depot_id, r.vehicle_id
"""

DRIVEN_PATH_COLUMNS = ("vehicle_id", "seq", "lat", "lon")
_DRIVEN_PATHS_SQL = """
select vehicle_id, seq, lat, lon
from read_parquet($driven_paths)
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
order by vehicle_id, seq
"""


def _has_tables(snapshot_key: str, tables: tuple[str, ...]) -> bool:
    return all(Path(_table_file(snapshot_key, name)).is_file() for name in tables)


def _optional_frame(
    sql: str, snapshot_key: str, tables: tuple[str, ...], columns: tuple[str, ...], **params: Any
) -> pd.DataFrame:
    """Like :func:`_frame`, but an empty frame with ``columns`` when one of ``tables`` is not in the snapshot."""
    if not _has_tables(snapshot_key, tables):
        return pd.DataFrame(columns=list(columns))
    return _frame(sql, snapshot_key, tables, **params)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def execution_dates(snapshot_key: str) -> list[dt.date]:
    """Service dates with execution data (rows in ``deliveries``), oldest first; none without the table."""
    if not has_table(snapshot_key, "deliveries"):
        return []
    return [record["service_date"] for record in _records(_EXECUTION_DATES_SQL, snapshot_key, ("deliveries",))]


def previous_period(start_date: dt.date, end_date: dt.date) -> tuple[dt.date, dt.date]:
    """The period of equal length that ends the day before ``start_date`` (both bounds inclusive).

    Raises
    ------
    ValueError
        If ``end_date`` is before ``start_date``.
    """
    if end_date < start_date:
        raise ValueError(f"end date {end_date} is before start date {start_date}")
    days = (end_date - start_date).days + 1
    return start_date - dt.timedelta(days=days), start_date - dt.timedelta(days=1)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def performance_summary(
    snapshot_key: str, start_date: dt.date, end_date: dt.date, depot_id: str | None = None
) -> dict[str, Any]:
    """Execution KPIs over the dates ``start_date``..``end_date`` (inclusive), one depot or all.

    Returns
    -------
    dict
        :data:`PERFORMANCE_SUMMARY_COLUMNS`: order counts (``orders``, ``attempted``, ``deliveries`` =
        delivered, ``failed``, ``not_attempted``, ``on_time`` = attempted in time), rates 0-1 (``on_time_rate``,
        ``first_attempt_success_rate``), ``cost_eur`` and ``cost_per_delivery_eur`` (actual, EUR),
        ``avg_rating`` (1-5) and ``ratings``. Counts are 0 and the rest None when there is no data.
    """
    tables = ("deliveries", "route_days")
    if not _has_tables(snapshot_key, tables):
        counts = ("orders", "attempted", "deliveries", "failed", "not_attempted", "on_time", "ratings")
        return dict.fromkeys(PERFORMANCE_SUMMARY_COLUMNS) | dict.fromkeys(counts, 0)
    (record,) = _records(
        _PERFORMANCE_SUMMARY_SQL,
        snapshot_key,
        tables,
        start_date=start_date,
        end_date=end_date,
        depot_id=depot_id,
    )
    return record


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def daily_kpis(snapshot_key: str, start_date: dt.date, end_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """The published per-depot KPIs (``delivery_kpis``, dimension ``depot``), one row per date and depot."""
    return _optional_frame(
        _DAILY_KPIS_SQL,
        snapshot_key,
        ("delivery_kpis", "depots"),
        DAILY_KPI_COLUMNS,
        start_date=start_date,
        end_date=end_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def driver_performance(
    snapshot_key: str, start_date: dt.date, end_date: dt.date, depot_id: str | None = None
) -> pd.DataFrame:
    """One row per driver over the range: :data:`DRIVER_PERFORMANCE_COLUMNS`, most deliveries first."""
    return _optional_frame(
        _DRIVER_PERFORMANCE_SQL,
        snapshot_key,
        ("deliveries", "route_days"),
        DRIVER_PERFORMANCE_COLUMNS,
        start_date=start_date,
        end_date=end_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def on_time_by_hour(
    snapshot_key: str, start_date: dt.date, end_date: dt.date, depot_id: str | None = None
) -> pd.DataFrame:
    """Attempted stops and on-time rate by local hour of the actual arrival (0-23)."""
    return _optional_frame(
        _ON_TIME_BY_HOUR_SQL,
        snapshot_key,
        ("deliveries",),
        ON_TIME_BY_HOUR_COLUMNS,
        start_date=start_date,
        end_date=end_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def failure_reasons(
    snapshot_key: str, start_date: dt.date, end_date: dt.date, depot_id: str | None = None
) -> pd.DataFrame:
    """Failed orders per failure reason, plus not-attempted orders (reason ``not_attempted``), most first."""
    return _optional_frame(
        _FAILURE_REASONS_SQL,
        snapshot_key,
        ("deliveries",),
        FAILURE_REASON_COLUMNS,
        start_date=start_date,
        end_date=end_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def day_deliveries(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Every order of one service date with its outcome (:data:`DAY_DELIVERY_COLUMNS`), by vehicle and plan."""
    return _optional_frame(
        _DAY_DELIVERIES_SQL,
        snapshot_key,
        ("deliveries",),
        DAY_DELIVERY_COLUMNS,
        service_date=service_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def day_route_days(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Planned versus actual per vehicle of one service date (:data:`DAY_ROUTE_COLUMNS`), by depot and vehicle."""
    return _optional_frame(
        _DAY_ROUTES_SQL,
        snapshot_key,
        ("route_days", "depots"),
        DAY_ROUTE_COLUMNS,
        service_date=service_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def day_driven_paths(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """The cleaned, downsampled telematics track of each vehicle of one service date, in time order."""
    return _optional_frame(
        _DRIVEN_PATHS_SQL,
        snapshot_key,
        ("driven_paths",),
        DRIVEN_PATH_COLUMNS,
        service_date=service_date,
        depot_id=depot_id,
    )


# --- data health (contract, section 3): optional tables -----------------------------------------------------
#
# What the plan was built on: the latest load of every source file per service date (``ingest_log``), the
# source rows that were rejected into quarantine (``quarantined_rows``) and the data checks that ran on what
# was accepted (``data_checks``). Loaded rows = accepted + quarantined. ``source`` is a raw table name
# (``orders``, ``stop_events``, ...); ``source=None`` means all sources.

_HEALTH_DATES_SQL = """
select distinct cast(service_date as date)
from read_parquet($table)
where service_date is not null
"""
# Each data-health table names the source in its own column.
_HEALTH_SOURCES_SQL = {
    "ingest_log": "select distinct table_name from read_parquet($table) where table_name is not null",
    "quarantined_rows": "select distinct source from read_parquet($table) where source is not null",
    "data_checks": "select distinct table_name from read_parquet($table) where table_name is not null",
}

LOAD_COLUMNS = (
    "source",
    "service_date",
    "source_file",
    "loaded_rows",
    "accepted_rows",
    "quarantined_rows",
    "loaded_at_utc",
)
_LOADS_SQL = """
select
    table_name as source,
    cast(service_date as date) as service_date,
    source_file,
    loaded_rows,
    accepted_rows,
    quarantined_rows,
    loaded_at_utc
from read_parquet($ingest_log)
where ($service_date::date is null or cast(service_date as date) = $service_date)
    and ($source::varchar is null or table_name = $source)
order by service_date, source
"""

FRESHNESS_COLUMNS = ("source", "last_loaded_at_utc", "last_service_date", "last_source_file", "dates_loaded")
_FRESHNESS_SQL = """
select
    table_name as source,
    max(loaded_at_utc) as last_loaded_at_utc,
    max(cast(service_date as date)) as last_service_date,
    arg_max(source_file, cast(service_date as date)) as last_source_file,
    count(distinct service_date) as dates_loaded
from read_parquet($ingest_log)
group by table_name
order by last_loaded_at_utc, source
"""

QUARANTINED_ROW_COLUMNS = (
    "source",
    "service_date",
    "source_file",
    "source_row",
    "line",
    "field",
    "reason_code",
    "reason_description",
    "reason",
    "raw_line",
)
# The file line of a data row: row 1 is the line after the header.
_QUARANTINED_ROWS_SQL = """
select
    source,
    cast(service_date as date) as service_date,
    source_file,
    source_row,
    source_row + 1 as line,
    field,
    reason_code,
    reason_description,
    reason,
    raw_line
from read_parquet($quarantined_rows)
where cast(service_date as date) = $service_date
    and ($source::varchar is null or source = $source)
order by source, source_file, source_row, reason_code
"""

QUARANTINE_REASON_COLUMNS = ("reason_code", "reason_description", "rows", "sources")
_QUARANTINE_REASONS_SQL = """
select
    reason_code,
    any_value(reason_description) as reason_description,
    count(*) as rows,
    list(distinct source order by source) as sources
from read_parquet($quarantined_rows)
where cast(service_date as date) = $service_date
    and ($source::varchar is null or source = $source)
group by reason_code
order by rows desc, reason_code
"""

DATA_CHECK_COLUMNS = (
    "check_name",
    "table_name",
    "service_date",
    "severity",
    "passed",
    "failed_expectations",
    "evaluated_expectations",
    "message",
    "data_docs_path",
    "checked_at_utc",
)
# Failing checks first, critical before warning.
_DATA_CHECKS_SQL = """
select
    check_name,
    table_name,
    cast(service_date as date) as service_date,
    severity,
    passed,
    failed_expectations,
    evaluated_expectations,
    message,
    data_docs_path,
    checked_at_utc
from read_parquet($data_checks)
where cast(service_date as date) = $service_date
    and ($source::varchar is null or table_name = $source)
order by passed, severity = 'critical' desc, table_name, check_name
"""

FAILING_CHECK_DATE_COLUMNS = ("service_date", "critical", "warning", "checks", "sources")
# Dates whose data checks failed, over the whole snapshot, newest first: where to look before trusting a plan.
_FAILING_CHECK_DATES_SQL = """
select
    cast(service_date as date) as service_date,
    count(*) filter (where severity = 'critical') as critical,
    count(*) filter (where severity <> 'critical') as warning,
    count(*) as checks,
    list(distinct table_name order by table_name) as sources
from read_parquet($data_checks)
where not passed
group by cast(service_date as date)
order by service_date desc
"""

_PLAN_RUNS_SQL = """
select *
from read_parquet($plan_runs)
order by created_at_utc desc, plan_id
limit $limit
"""


def _distinct_over_health_tables(snapshot_key: str, sql_by_table: dict[str, str]) -> list[Any]:
    """The sorted distinct values of the one-column ``sql`` run on each data-health table the snapshot has."""
    values = set()
    with duckdb.connect(":memory:") as connection:
        for table, sql in sql_by_table.items():
            if has_table(snapshot_key, table):
                rows = connection.execute(sql, {"table": table_path(snapshot_key, table)}).fetchall()
                values.update(row[0] for row in rows)
    return sorted(values)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def health_dates(snapshot_key: str) -> list[dt.date]:
    """Service dates with a load, a quarantined row or a data check in the snapshot, oldest first."""
    return _distinct_over_health_tables(snapshot_key, dict.fromkeys(DATA_HEALTH_TABLES, _HEALTH_DATES_SQL))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def health_sources(snapshot_key: str) -> list[str]:
    """Sources (raw table names) with a load, a quarantined row or a data check in the snapshot, by name."""
    return _distinct_over_health_tables(snapshot_key, _HEALTH_SOURCES_SQL)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def loads(snapshot_key: str, service_date: dt.date | None = None, source: str | None = None) -> pd.DataFrame:
    """The latest load per source and service date (:data:`LOAD_COLUMNS`); all dates when ``service_date`` is
    None. Loaded rows (data rows in the file) = accepted + quarantined."""
    return _optional_frame(
        _LOADS_SQL, snapshot_key, ("ingest_log",), LOAD_COLUMNS, service_date=service_date, source=source
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def freshness(snapshot_key: str) -> pd.DataFrame:
    """One row per source (:data:`FRESHNESS_COLUMNS`): when it was last loaded, the newest service date
    loaded and its file, and how many dates it has; the stalest source first."""
    return _optional_frame(_FRESHNESS_SQL, snapshot_key, ("ingest_log",), FRESHNESS_COLUMNS)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def quarantined_rows(snapshot_key: str, service_date: dt.date, source: str | None = None) -> pd.DataFrame:
    """Rejected source rows of one service date (:data:`QUARANTINED_ROW_COLUMNS`), by source, file and row.

    ``source_row`` is the 1-based data row, ``line`` the file line (the header is line 1); ``field`` is None
    for whole-line faults; ``raw_line`` is the line as it was in the file (None for Parquet sources).
    """
    return _optional_frame(
        _QUARANTINED_ROWS_SQL,
        snapshot_key,
        ("quarantined_rows",),
        QUARANTINED_ROW_COLUMNS,
        service_date=service_date,
        source=source,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def quarantine_reasons(snapshot_key: str, service_date: dt.date, source: str | None = None) -> pd.DataFrame:
    """Quarantined rows of one service date per reason code (:data:`QUARANTINE_REASON_COLUMNS`), most first."""
    return _optional_frame(
        _QUARANTINE_REASONS_SQL,
        snapshot_key,
        ("quarantined_rows",),
        QUARANTINE_REASON_COLUMNS,
        service_date=service_date,
        source=source,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def data_checks(snapshot_key: str, service_date: dt.date, source: str | None = None) -> pd.DataFrame:
    """Data checks of one service date (:data:`DATA_CHECK_COLUMNS`): failing first, critical before warning."""
    return _optional_frame(
        _DATA_CHECKS_SQL,
        snapshot_key,
        ("data_checks",),
        DATA_CHECK_COLUMNS,
        service_date=service_date,
        source=source,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def failing_check_dates(snapshot_key: str) -> pd.DataFrame:
    """Every service date with a failing data check (:data:`FAILING_CHECK_DATE_COLUMNS`: failing checks by
    severity, ``critical`` and ``warning``, their total and the sources they checked), newest first."""
    return _optional_frame(_FAILING_CHECK_DATES_SQL, snapshot_key, ("data_checks",), FAILING_CHECK_DATE_COLUMNS)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def latest_plan_runs(snapshot_key: str, limit: int = 10) -> pd.DataFrame:
    """The newest ``limit`` plan runs of every service date, newest first, with all published columns
    (the contract's, plus e.g. ``status`` and order counts when the publisher wrote them)."""
    return _frame(_PLAN_RUNS_SQL, snapshot_key, ("plan_runs",), limit=limit)


# --- learned models (contract, section 3): optional tables --------------------------------------------------
#
# What the fleet's history taught: every model version (``model_versions``) and the newest version's travel-time
# factors, service times, hourly first-attempt success and recommended delivery windows. Hours are local hours
# of the start of service; windows are seconds since local midnight; rates are shares 0-1. A snapshot of an
# older warehouse has none of these files: every function returns the empty result of its columns.

MODEL_VERSION_COLUMNS = (
    "model",
    "version",
    "trained_from",
    "trained_through",
    "created_at_utc",
    "n_samples",
    "fit_error",
    "baseline_error",
    "error_metric",
)
_MODEL_VERSIONS_SQL = """
select
    model,
    version,
    cast(trained_from as date) as trained_from,
    cast(trained_through as date) as trained_through,
    created_at_utc,
    n_samples,
    fit_error,
    baseline_error,
    error_metric
from read_parquet($model_versions)
order by model, trained_through, created_at_utc, version
"""

TRAVEL_FACTOR_COLUMNS = ("version", "term", "key", "factor", "n_samples")
_TRAVEL_FACTORS_SQL = """
select version, term, key, factor, n_samples
from read_parquet($travel_time_factors)
order by term, key
"""

SERVICE_TIME_COLUMNS = (
    "version",
    "level",
    "site_type",
    "zone",
    "customer_id",
    "n_samples",
    "median_s",
    "mean_s",
    "p90_s",
    "per_parcel_s",
)
_SERVICE_TIMES_SQL = """
select version, level, site_type, zone, customer_id, n_samples, median_s, mean_s, p90_s, per_parcel_s
from read_parquet($service_times)
where level = $level
    and ($customer_id::varchar is null or customer_id = $customer_id)
order by site_type, zone, customer_id
"""

AVAILABILITY_COLUMNS = ("version", "level", "zone", "customer_id", "hour", "attempts", "successes", "success_rate")
_AVAILABILITY_SQL = """
select version, level, zone, customer_id, hour, attempts, successes, success_rate
from read_parquet($availability)
where level = $level
    and ($customer_id::varchar is null or customer_id = $customer_id)
order by zone, customer_id, hour
"""

WINDOW_COLUMNS = (
    "version",
    "level",
    "zone",
    "customer_id",
    "window_start_s",
    "window_end_s",
    "success_rate",
    "day_success_rate",
    "lift",
    "attempts",
)
_WINDOWS_SQL = """
select version, level, zone, customer_id, window_start_s, window_end_s, success_rate, day_success_rate, lift, attempts
from read_parquet($recommended_windows)
where level = $level
    and ($customer_id::varchar is null or customer_id = $customer_id)
order by zone, customer_id
"""

# The model tables with customer-level rows, and the customers those rows name.
_CUSTOMER_TABLES = ("availability", "recommended_windows", "service_times")
_CUSTOMERS_SQL = "select distinct customer_id from read_parquet($table) where level = 'customer'"

CUSTOMER_DELIVERY_COLUMNS = (
    "service_date",
    "order_id",
    "depot_id",
    "vehicle_id",
    "town",
    "tw_start_s",
    "tw_end_s",
    "actual_arrival_s",
    "outcome",
    "failure_reason",
    "attempt",
    "is_on_time",
    "minutes_late",
    "rating",
)
_CUSTOMER_DELIVERIES_SQL = """
select
    cast(service_date as date) as service_date,
    order_id,
    depot_id,
    vehicle_id,
    town,
    tw_start_s,
    tw_end_s,
    actual_arrival_s,
    outcome,
    failure_reason,
    attempt,
    is_on_time,
    minutes_late,
    rating
from read_parquet($deliveries)
where customer_id = $customer_id
order by service_date desc, order_id
"""


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def model_versions(snapshot_key: str) -> pd.DataFrame:
    """Every version of every model (:data:`MODEL_VERSION_COLUMNS`), by model and training date, oldest first."""
    return _optional_frame(_MODEL_VERSIONS_SQL, snapshot_key, ("model_versions",), MODEL_VERSION_COLUMNS)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def travel_time_factors(snapshot_key: str) -> pd.DataFrame:
    """The newest travel-time version's speed factors (:data:`TRAVEL_FACTOR_COLUMNS`), by term and key."""
    return _optional_frame(_TRAVEL_FACTORS_SQL, snapshot_key, ("travel_time_factors",), TRAVEL_FACTOR_COLUMNS)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def service_times(snapshot_key: str, level: str, customer_id: str | None = None) -> pd.DataFrame:
    """The newest service-time version's estimates of one level (``customer``, ``site_zone``, ``site_type``),
    for one customer or all (:data:`SERVICE_TIME_COLUMNS`; seconds, for a one-parcel stop)."""
    return _optional_frame(
        _SERVICE_TIMES_SQL,
        snapshot_key,
        ("service_times",),
        SERVICE_TIME_COLUMNS,
        level=level,
        customer_id=customer_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def availability(snapshot_key: str, level: str, customer_id: str | None = None) -> pd.DataFrame:
    """Smoothed first-attempt success by local hour of the newest availability version, of one level (``zone``
    or ``customer``), for one customer or all (:data:`AVAILABILITY_COLUMNS`)."""
    return _optional_frame(
        _AVAILABILITY_SQL,
        snapshot_key,
        ("availability",),
        AVAILABILITY_COLUMNS,
        level=level,
        customer_id=customer_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def recommended_windows(snapshot_key: str, level: str, customer_id: str | None = None) -> pd.DataFrame:
    """Recommended delivery windows of the newest availability version, of one level (``zone`` or
    ``customer``), for one customer or all (:data:`WINDOW_COLUMNS`)."""
    return _optional_frame(
        _WINDOWS_SQL,
        snapshot_key,
        ("recommended_windows",),
        WINDOW_COLUMNS,
        level=level,
        customer_id=customer_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def customers_with_history(snapshot_key: str) -> list[str]:
    """Customer ids any model has customer-level rows for, sorted."""
    customers = set()
    with duckdb.connect(":memory:") as connection:
        for table in _CUSTOMER_TABLES:
            if _has_tables(snapshot_key, (table,)):
                rows = connection.execute(_CUSTOMERS_SQL, {"table": _table_file(snapshot_key, table)}).fetchall()
                customers.update(row[0] for row in rows if row[0] is not None)
    return sorted(customers)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def customer_deliveries(snapshot_key: str, customer_id: str) -> pd.DataFrame:
    """A customer's past orders with their outcome (:data:`CUSTOMER_DELIVERY_COLUMNS`), newest first; empty
    without execution data."""
    return _optional_frame(
        _CUSTOMER_DELIVERIES_SQL,
        snapshot_key,
        ("deliveries",),
        CUSTOMER_DELIVERY_COLUMNS,
        customer_id=customer_id,
    )


# --- live state and plan versions (docs/replanning.md, section 6): optional tables ------------------------------
#
# Written with the snapshot once a date has a live state (``live_state``) or a re-plan: each vehicle at the
# latest ``as_of`` of its date (``live_vehicles``), every stop of the current plan with its re-timed ETA
# (``live_stops``) and every plan version (``plan_versions``). A snapshot published before issue 7, or for a date
# without live drops, has none of them, or no rows for the date: every function returns the empty result of its
# columns. Times ``*_s`` are seconds since local midnight of the service date, ``*_utc`` UTC instants.

LIVE_TABLES = ("live_vehicles", "live_stops", "plan_versions")

_LIVE_DATES_SQL = """
select distinct cast(service_date as date) as service_date
from read_parquet($live_vehicles)
order by service_date
"""

LIVE_VEHICLE_COLUMNS = (
    "service_date",
    "as_of_s",
    "depot_id",
    "depot_name",
    "vehicle_id",
    "lat",
    "lon",
    "fix_at_utc",
    "status",
    "stops_done",
    "stops_failed",
    "stops_remaining",
    "next_order_id",
    "next_eta_s",
    "late_stops",
    "late_s_total",
)
_LIVE_VEHICLES_SQL = """
select
    cast(v.service_date as date) as service_date,
    v.as_of_s,
    v.depot_id,
    d.name as depot_name,
    v.vehicle_id,
    v.lat,
    v.lon,
    v.fix_at_utc,
    v.status,
    v.stops_done,
    v.stops_failed,
    v.stops_remaining,
    v.next_order_id,
    v.next_eta_s,
    v.late_stops,
    v.late_s_total
from read_parquet($live_vehicles) as v
left join read_parquet($depots) as d on d.depot_id = v.depot_id
where cast(v.service_date as date) = $service_date
    and ($depot_id::varchar is null or v.depot_id = $depot_id)
order by v.depot_id, v.vehicle_id
"""

LIVE_STOP_COLUMNS = (
    "service_date",
    "plan_id",
    "depot_id",
    "vehicle_id",
    "sequence",
    "order_id",
    "lat",
    "lon",
    "status",
    "morning_eta_s",
    "eta_s",
    "tw_start_s",
    "tw_end_s",
    "late_s",
    "at_risk",
    "moved",
    "previous_vehicle_id",
    "eta_change_s",
)
# Stops without a vehicle (unassigned, cancelled) come last in their depot.
_LIVE_STOPS_SQL = """
select
    cast(service_date as date) as service_date,
    plan_id,
    depot_id,
    vehicle_id,
    sequence,
    order_id,
    lat,
    lon,
    status,
    morning_eta_s,
    eta_s,
    tw_start_s,
    tw_end_s,
    late_s,
    at_risk,
    moved,
    previous_vehicle_id,
    eta_change_s
from read_parquet($live_stops)
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
order by depot_id, vehicle_id nulls last, sequence nulls last, order_id
"""

PLAN_VERSION_COLUMNS = (
    "plan_id",
    "service_date",
    "kind",
    "version",
    "created_at_utc",
    "status",
    "reason",
    "as_of_s",
    "n_moved",
    "n_orders",
    "n_assigned",
    "n_unassigned",
)
_PLAN_VERSIONS_SQL = """
select
    plan_id,
    cast(service_date as date) as service_date,
    kind,
    version,
    created_at_utc,
    status,
    reason,
    as_of_s,
    n_moved,
    n_orders,
    n_assigned,
    n_unassigned
from read_parquet($plan_versions)
where cast(service_date as date) = $service_date
order by created_at_utc, version, plan_id
"""


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def live_dates(snapshot_key: str) -> list[dt.date]:
    """Service dates with a live state (rows in ``live_vehicles``), oldest first; none without the table."""
    if not _has_tables(snapshot_key, ("live_vehicles",)):
        return []
    return [record["service_date"] for record in _records(_LIVE_DATES_SQL, snapshot_key, ("live_vehicles",))]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def live_vehicles(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Each vehicle of the date at the latest live state (:data:`LIVE_VEHICLE_COLUMNS`, with the depot's name),
    by depot and vehicle: its last fix (``lat, lon`` null before the first one), ``status`` (``not_started``,
    ``driving``, ``at_stop``, ``at_depot``, ``broken_down``, ``finished``), stop counts, next stop and its ETA, and
    the stops whose ETA misses the window (``late_stops``, ``late_s_total`` in seconds)."""
    return _optional_frame(
        _LIVE_VEHICLES_SQL,
        snapshot_key,
        ("live_vehicles", "depots"),
        LIVE_VEHICLE_COLUMNS,
        service_date=service_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def live_stops(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Every stop of the date's current plan (:data:`LIVE_STOP_COLUMNS`), by depot, vehicle and sequence:
    ``status`` (``delivered``, ``failed``, ``committed``, ``planned``, ``unassigned``, ``cancelled``), the
    morning plan's and the re-timed ETA, ``late_s`` (ETA past the window end), ``at_risk``, and what the latest
    re-plan changed: ``moved`` with ``previous_vehicle_id``, ``eta_change_s`` (ETA now minus before)."""
    return _optional_frame(
        _LIVE_STOPS_SQL,
        snapshot_key,
        ("live_stops",),
        LIVE_STOP_COLUMNS,
        service_date=service_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def plan_versions(snapshot_key: str, service_date: dt.date) -> pd.DataFrame:
    """Every plan version of the date (:data:`PLAN_VERSION_COLUMNS`), oldest first: ``kind`` (``daily``,
    ``replan``), ``version``, ``reason`` and ``as_of_s`` of a re-plan, ``n_moved`` stops moved to another vehicle,
    and order counts."""
    return _optional_frame(
        _PLAN_VERSIONS_SQL,
        snapshot_key,
        ("plan_versions",),
        PLAN_VERSION_COLUMNS,
        service_date=service_date,
    )
