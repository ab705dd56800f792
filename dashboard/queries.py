"""All SQL of the dashboard: query functions over one serving snapshot.

Every function takes ``snapshot_key`` (:attr:`dashboard.snapshot.Snapshot.key`, the snapshot directory, which
embeds the snapshot id) first, so cached results are keyed by the snapshot and a new publish shows up on the
next rerun. Each call opens its own in-memory DuckDB connection and reads the snapshot's Parquet files; the
warehouse file is never opened. Values, including the Parquet paths, reach DuckDB as bound parameters.

``service_date`` is a :class:`datetime.date`; ``depot_id=None`` means all depots.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboard.snapshot import table_path

# A snapshot directory never changes after publication; the TTL only bounds how long old results stay in
# memory after a new publish.
CACHE_TTL = "10m"

_ROUTES_SQL = """
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
    r.cost_eur
from read_parquet($planned_routes) as r
left join read_parquet($depots) as d on d.depot_id = r.depot_id
where cast(r.service_date as date) = $service_date
    and ($depot_id::varchar is null or r.depot_id = $depot_id)
order by r.depot_id, r.vehicle_id, r.route_id
"""

_STOPS_SQL = """
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
    notes
from read_parquet($planned_stops)
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
order by depot_id, vehicle_id, route_id, sequence
"""

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

_ROUTE_STOPS_SQL = """
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
    notes
from read_parquet($planned_stops)
where cast(plan_id as varchar) = $plan_id and cast(route_id as varchar) = $route_id
order by sequence
"""


def _bind(snapshot_key: str, tables: tuple[str, ...], params: dict[str, Any]) -> dict[str, Any]:
    return {name: table_path(snapshot_key, name) for name in tables} | params


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
    (record,) = _records(
        _SUMMARY_SQL, snapshot_key, ("plan_kpis",), service_date=service_date, depot_id=depot_id
    )
    return record


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def kpis_by_date(snapshot_key: str) -> pd.DataFrame:
    """Published plan KPIs, one row per service date and depot, newest date first, with the plan version."""
    return _frame(_KPIS_BY_DATE_SQL, snapshot_key, ("plan_kpis", "depots", "plan_runs"))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def planned_routes(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Routes of the current plan, ordered by depot and vehicle (the order that fixes route colours)."""
    return _frame(
        _ROUTES_SQL,
        snapshot_key,
        ("planned_routes", "depots"),
        service_date=service_date,
        depot_id=depot_id,
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def planned_stops(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Planned stops of the current plan, in route and sequence order."""
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
    """Stops of one route in sequence order: the input of the driver manifest."""
    return _frame(
        _ROUTE_STOPS_SQL, snapshot_key, ("planned_stops",), plan_id=str(plan_id), route_id=str(route_id)
    )
