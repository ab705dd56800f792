"""Queries of the exports (driver manifests, GeoJSON): what :mod:`dashboard.queries` does not read.

The planned stops with every column a driver needs (pickup or delivery, required skills, second window, trip),
the drivers of played-out days, and the customer tracking tokens. Same rules as :mod:`dashboard.queries`: each call
opens an in-memory DuckDB over the snapshot's Parquet files, values and paths reach DuckDB as bound parameters,
results are cached per snapshot, and an optional table that is missing reads as empty.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboard.queries import CACHE_TTL
from dashboard.snapshot import table_path

TRACKING_TABLE = "tracking"

# Columns of planned_stops that newer plans carry and older snapshots lack (null there): the order type, its
# required skills and priority (marts.fct_orders_to_plan), the second window and trip (issue 6), re-timing lateness.
MANIFEST_STOP_COLUMNS = (
    "plan_id",
    "service_date",
    "depot_id",
    "route_id",
    "vehicle_id",
    "sequence",
    "order_id",
    "order_type",
    "street",
    "postcode",
    "town",
    "lat",
    "lon",
    "tw_start_s",
    "tw_end_s",
    "tw2_start_s",
    "tw2_end_s",
    "arrival_s",
    "departure_s",
    "parcels",
    "weight_g",
    "volume_cm3",
    "required_skills",
    "priority",
    "shipment_id",
    "trip",
    "late_s",
    "notes",
)

_MANIFEST_STOPS_SQL = """
with stops as (
    select * from read_parquet($planned_stops)
    union all by name
    select
        null::varchar as order_type,
        null::varchar as required_skills,
        null::varchar as priority,
        null::varchar as shipment_id,
        null::bigint as tw2_start_s,
        null::bigint as tw2_end_s,
        null::bigint as trip,
        null::bigint as late_s
    where false
)

select
    plan_id,
    cast(service_date as date) as service_date,
    depot_id,
    route_id,
    vehicle_id,
    sequence,
    order_id,
    order_type,
    street,
    postcode,
    town,
    lat,
    lon,
    tw_start_s,
    tw_end_s,
    tw2_start_s,
    tw2_end_s,
    arrival_s,
    departure_s,
    parcels,
    weight_g,
    volume_cm3,
    cast(required_skills as varchar) as required_skills,
    priority,
    shipment_id,
    trip,
    late_s,
    notes
from stops
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
order by depot_id, vehicle_id, route_id, sequence
"""

DRIVER_COLUMNS = ("vehicle_id", "driver_id")
_DRIVERS_SQL = """
select vehicle_id, min(driver_id) as driver_id
from read_parquet($route_days)
where cast(service_date as date) = $service_date
    and ($depot_id::varchar is null or depot_id = $depot_id)
    and driver_id is not null
group by vehicle_id
order by vehicle_id
"""

TRACKING_COLUMNS = ("order_id", "token")
_TRACKING_SQL = """
select order_id, token
from read_parquet($tracking)
where cast(service_date as date) = $service_date
order by order_id
"""


def _frame(sql: str, params: dict[str, Any]) -> pd.DataFrame:
    with duckdb.connect(":memory:") as connection:
        return connection.execute(sql, params).df()


def _tracking_file(snapshot_key: str) -> Path:
    return Path(snapshot_key) / f"{TRACKING_TABLE}.parquet"


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def manifest_stops(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> pd.DataFrame:
    """Planned stops of the current plan of one date (one depot or all), by depot, vehicle, route and sequence.

    Returns
    -------
    DataFrame
        :data:`MANIFEST_STOP_COLUMNS`; the columns older plans lack (``order_type, required_skills, priority,
        shipment_id, tw2_start_s, tw2_end_s, trip, late_s``) are null for them.
    """
    return _frame(
        _MANIFEST_STOPS_SQL,
        {
            "planned_stops": table_path(snapshot_key, "planned_stops"),
            "service_date": service_date,
            "depot_id": depot_id,
        },
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def route_drivers(snapshot_key: str, service_date: dt.date, depot_id: str | None = None) -> dict[str, str]:
    """Who drove each vehicle on a played-out date (``route_days``), by vehicle id; empty for a date not played out
    or a snapshot without execution data."""
    path = table_path(snapshot_key, "route_days")
    if not Path(path).is_file():
        return {}
    drivers = _frame(_DRIVERS_SQL, {"route_days": path, "service_date": service_date, "depot_id": depot_id})
    return dict(zip(drivers["vehicle_id"].astype(str), drivers["driver_id"].astype(str), strict=True))


def has_tracking(snapshot_key: str) -> bool:
    """Whether the snapshot holds the customer tracking table (published once tracking tokens exist)."""
    return _tracking_file(snapshot_key).is_file()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def tracking_tokens(snapshot_key: str, service_date: dt.date) -> dict[str, str]:
    """The tracking token of each order of one date, by order id; empty without the ``tracking`` table."""
    if not has_tracking(snapshot_key):
        return {}
    tokens = _frame(_TRACKING_SQL, {"tracking": str(_tracking_file(snapshot_key)), "service_date": service_date})
    return dict(zip(tokens["order_id"].astype(str), tokens["token"].astype(str), strict=True))
