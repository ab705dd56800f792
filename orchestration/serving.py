"""Publishing the serving snapshot: marts -> Parquet files in a new folder -> atomic swap of ``CURRENT``.

Readers (the dashboard) resolve ``CURRENT`` and only ever see a complete snapshot: the folder is fully
written and synced before the pointer is replaced with ``os.replace``, which is atomic on POSIX.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.model_store import MODEL_TABLES
from orchestration.scenarios import scenario_queries
from orchestration.tracking import tracking_queries

SNAPSHOT_QUERIES: dict[str, str] = {
    "depots": "select depot_id, depot_name as name, street, postcode, town, lat, lon, opens_s, closes_s, timezone, "
    "{reload_s} from marts.dim_depots order by depot_id",
    "plan_runs": "select plan_id, service_date, kind, version, created_at_utc, seed, time_budget_s, runtime_s, "
    "objective, n_orders, n_assigned, n_unassigned, status, {model_versions}, is_current "
    "from marts.dim_plan_versions order by service_date, kind, version",
    "planned_routes": "select * from marts.fct_planned_routes order by service_date, depot_id, route_id",
    "planned_stops": "select * from marts.fct_planned_stops order by service_date, route_id, sequence",
    "unassigned": "select * from marts.fct_plan_unassigned order by service_date, depot_id, order_id",
    "plan_kpis": "select * from marts.fct_plan_kpis order by service_date, depot_id",
}
# The learned model versions a plan was made with; a warehouse built before issue 5 lacks them (read as null).
PLAN_MODEL_VERSION_COLUMNS = ("travel_model_version", "service_model_version", "availability_model_version")
# What happened on past days: published when the marts exist (a warehouse without execution data has none).
OPTIONAL_SNAPSHOT_QUERIES: dict[str, tuple[str, str]] = {
    "deliveries": ("fct_deliveries", "select * from marts.fct_deliveries order by service_date, depot_id, order_id"),
    "route_days": ("fct_route_days", "select * from marts.fct_route_days order by service_date, depot_id, vehicle_id"),
    "delivery_kpis": (
        "fct_delivery_kpis",
        "select * from marts.fct_delivery_kpis order by service_date, depot_id, dimension, dimension_value",
    ),
    "driven_paths": (
        "fct_driven_paths",
        "select * from marts.fct_driven_paths order by service_date, vehicle_id, seq",
    ),
}
# Data health (contract, section 3): published when the data-quality tables exist (a fresh or older warehouse
# has none); a source table that does not exist gives no file, one that exists a file, empty or not.
DATA_HEALTH_TABLES = ("ingest_log", "quarantined_rows", "data_checks")
# Columns every quarantine.<table> has besides the source's own: what the union reads.
_QUARANTINE_COMMON_COLUMNS = frozenset(
    {"service_date", "reason_code", "field", "reason", "_source_file", "_source_row"}
)
# Quarantine tables are named after their source (snake case), so a name can go into the SQL as identifier and text.
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_REASONS_VIEW = "_serving_reason_descriptions"
_DATA_CHECKS_QUERY = "select * from quality.data_checks order by service_date, table_name, check_name"
# Learned models (contract, section 3): published when the warehouse has ``models.model_versions`` (an older one
# has no ``models`` schema). Every version is listed; a model's own tables are published for its newest version
# only (the largest trained_through), which is what the next plan uses.
MODEL_OF_TABLE = {
    "travel_time_factors": "travel_time",
    "service_times": "service_time",
    "availability": "availability",
    "recommended_windows": "availability",
}
_MODEL_TABLE_ORDER = {
    "travel_time_factors": "term, key",
    "service_times": "level, site_type, zone, customer_id",
    "availability": "level, zone, customer_id, hour",
    "recommended_windows": "level, zone, customer_id",
}
# Road geometry of the published routes (issue 6): when the warehouse has ``plans.route_geometry`` (plans made on
# a road network write it); the rows of the plans in ``planned_routes``, i.e. the current daily plans.
ROUTE_GEOMETRY_QUERY = """
    select g.plan_id, r.service_date, g.depot_id, g.route_id, g.seq, g.lon, g.lat
    from plans.route_geometry as g
    inner join (select distinct plan_id, service_date from marts.fct_planned_routes) as r on r.plan_id = g.plan_id
    order by r.service_date, g.depot_id, g.route_id, g.seq"""
# Live state and plan versions (issue 7, docs/replanning.md section 6): written once the warehouse has plans
# (plans.plan_runs), empty with these columns while it has no live state (plans.live_*) yet; left out of a
# warehouse without plans. Live files hold each date's latest as_of.
LIVE_VEHICLES_COLUMNS = (
    ("service_date", "date"), ("as_of_s", "integer"), ("depot_id", "varchar"), ("vehicle_id", "varchar"),
    ("lat", "double"), ("lon", "double"), ("fix_at_utc", "timestamptz"), ("status", "varchar"),
    ("stops_done", "integer"), ("stops_failed", "integer"), ("stops_remaining", "integer"),
    ("next_order_id", "varchar"), ("next_eta_s", "integer"), ("late_stops", "integer"), ("late_s_total", "integer"),
    ("plan_id", "varchar"),
)  # fmt: skip
LIVE_STOPS_COLUMNS = (
    ("service_date", "date"), ("plan_id", "varchar"), ("depot_id", "varchar"), ("vehicle_id", "varchar"),
    ("sequence", "integer"), ("order_id", "varchar"), ("lat", "double"), ("lon", "double"), ("status", "varchar"),
    ("morning_eta_s", "integer"), ("eta_s", "integer"), ("tw_start_s", "integer"), ("tw_end_s", "integer"),
    ("late_s", "integer"), ("at_risk", "boolean"), ("moved", "boolean"), ("previous_vehicle_id", "varchar"),
    ("eta_change_s", "integer"), ("as_of_s", "integer"),
)  # fmt: skip
PLAN_VERSIONS_COLUMNS = (
    ("plan_id", "varchar"), ("service_date", "date"), ("kind", "varchar"), ("version", "integer"),
    ("created_at_utc", "timestamptz"), ("status", "varchar"), ("reason", "varchar"), ("parent_plan_id", "varchar"),
    ("as_of_s", "integer"), ("n_moved", "integer"), ("n_orders", "integer"), ("n_assigned", "integer"),
    ("n_unassigned", "integer"),
)  # fmt: skip
_LIVE_SNAPSHOT_TABLES = {
    "live_vehicles": ("live_vehicles", LIVE_VEHICLES_COLUMNS, "service_date, depot_id, vehicle_id"),
    "live_stops": (
        "live_stops",
        LIVE_STOPS_COLUMNS,
        "service_date, depot_id, vehicle_id nulls last, sequence, order_id",
    ),
    "plan_versions": ("plan_runs", PLAN_VERSIONS_COLUMNS, "service_date, created_at_utc, version, plan_id"),
}
KEEP_SNAPSHOTS = 5


@dataclass(frozen=True)
class PublishedSnapshot:
    """A snapshot that ``CURRENT`` now points at."""

    snapshot_id: str
    path: Path
    row_counts: dict[str, int]
    service_dates: list[str]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_snapshot(conn: duckdb.DuckDBPyConnection, serving_dir: Path) -> PublishedSnapshot:
    """Write every serving table to a new snapshot folder, then point ``CURRENT`` at it.

    Parameters
    ----------
    conn
        Connection to the warehouse (read only use).
    serving_dir
        Root of the serving store; holds ``CURRENT`` and ``snapshots/``.

    Returns
    -------
    PublishedSnapshot
        The new snapshot's id, folder, row counts and service dates.
    """
    snapshots = serving_dir / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    snapshot_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
    building = snapshots / f".{snapshot_id}.building"
    building.mkdir()
    marts = {
        row[0]
        for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    mart_columns: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name in ('dim_plan_versions', 'dim_depots')"
    ).fetchall():
        mart_columns.setdefault(table, set()).add(column)
    plan_columns = mart_columns.get("dim_plan_versions", set())
    model_versions = ", ".join(
        column if column in plan_columns else f"cast(null as varchar) as {column}"  # names from a fixed list
        for column in PLAN_MODEL_VERSION_COLUMNS
    )
    queries = dict(SNAPSHOT_QUERIES)
    queries["plan_runs"] = queries["plan_runs"].format(model_versions=model_versions)
    # Depots' reload time (issue 6); a warehouse whose marts predate it publishes nulls.
    reload_s = "reload_s" if "reload_s" in mart_columns.get("dim_depots", set()) else "null::integer as reload_s"
    queries["depots"] = queries["depots"].format(reload_s=reload_s)
    queries.update({name: query for name, (mart, query) in OPTIONAL_SNAPSHOT_QUERIES.items() if mart in marts})
    queries.update(data_health_queries(conn))
    queries.update(model_queries(conn))
    queries.update(route_geometry_queries(conn))
    queries.update(live_queries(conn))
    queries.update(scenario_queries(conn))
    queries.update(tracking_queries(conn))
    conn.register(_REASONS_VIEW, _quarantine_reasons())
    try:
        row_counts = {}
        for name, query in queries.items():
            table = conn.execute(query).fetch_arrow_table()
            pq.write_table(table, building / f"{name}.parquet")
            row_counts[name] = table.num_rows
    finally:
        conn.unregister(_REASONS_VIEW)
    service_dates = [
        str(row[0])
        for row in conn.execute("select distinct service_date from marts.fct_plan_kpis order by 1").fetchall()
    ]
    manifest = {
        "snapshot_id": snapshot_id,
        "created_at_utc": datetime.now(UTC).isoformat(),
        "tables": row_counts,
        "service_dates": service_dates,
    }
    (building / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for file in building.iterdir():
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
    final = snapshots / snapshot_id
    building.rename(final)
    _fsync_dir(snapshots)

    pointer_tmp = serving_dir / f".CURRENT.{snapshot_id}.tmp"
    pointer_tmp.write_text(snapshot_id + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, serving_dir / "CURRENT")
    _fsync_dir(serving_dir)
    prune_snapshots(serving_dir, keep=KEEP_SNAPSHOTS)
    return PublishedSnapshot(snapshot_id, final, row_counts, service_dates)


def _quarantine_reasons() -> pa.Table:
    """Reason codes and their descriptions (``orchestration.quality.rules``), empty when that is not there."""
    try:
        from orchestration.quality.rules import QUARANTINE_REASONS as reasons
    except ImportError:  # a pipeline without data checks has no reason codes to describe
        reasons = {}
    return pa.table(
        {
            "reason_code": pa.array(list(reasons), pa.string()),
            "reason_description": pa.array(list(reasons.values()), pa.string()),
        }
    )


def data_health_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The data-health snapshot tables this warehouse can fill, with their queries.

    ``ingest_log`` (the latest load per source and service date) when ``raw.ingest_log`` exists,
    ``quarantined_rows`` (every ``quarantine.<table>``, one row per rejected source row, with the line as it
    was in the file where the source keeps it) when at least one quarantine table exists, ``data_checks`` when
    ``quality.data_checks`` exists. A warehouse older than the ``loaded_rows`` and ``quarantined_rows`` columns
    of the ingest log reads them as ``rows`` and 0.
    The quarantine query joins the view ``_serving_reason_descriptions`` (reason_code, reason_description),
    which :func:`publish_snapshot` registers from ``orchestration.quality.rules.QUARANTINE_REASONS``.
    """
    columns: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in conn.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema in ('raw', 'quarantine', 'quality')"
    ).fetchall():
        columns.setdefault((schema, table), set()).add(column)
    queries = {}
    log_columns = columns.get(("raw", "ingest_log"))
    if log_columns is not None:
        loaded = "loaded_rows" if "loaded_rows" in log_columns else "cast(null as integer)"
        quarantined = "quarantined_rows" if "quarantined_rows" in log_columns else "cast(null as integer)"
        queries["ingest_log"] = f"""
            with loads as (
                select
                    cast(table_name as varchar) as table_name,
                    cast(service_date as date) as service_date,
                    cast(source_file as varchar) as source_file,
                    cast(coalesce({quarantined}, 0) as integer) as quarantined_rows,
                    cast("rows" as integer) as accepted_rows,
                    cast({loaded} as integer) as loaded_rows,
                    cast(loaded_at_utc as timestamptz) as loaded_at_utc
                from raw.ingest_log
                qualify row_number() over (
                    partition by table_name, service_date order by loaded_at_utc desc, source_file desc
                ) = 1
            )
            select
                table_name,
                service_date,
                source_file,
                coalesce(loaded_rows, accepted_rows + quarantined_rows) as loaded_rows,
                accepted_rows,
                quarantined_rows,
                loaded_at_utc
            from loads
            order by table_name, service_date"""
    quarantine_tables = sorted(
        table
        for (schema, table), names in columns.items()
        if schema == "quarantine" and names >= _QUARANTINE_COMMON_COLUMNS and _PLAIN_NAME.fullmatch(table)
    )
    if quarantine_tables:
        # CSV sources keep the rejected line as it was in the file; typed sources (pings) have none.
        raw_line = {t: "_raw_line" if "_raw_line" in columns[("quarantine", t)] else "null" for t in quarantine_tables}
        union = "\n            union all\n".join(
            f"""            select
                '{table}' as source,
                cast(service_date as date) as service_date,
                cast(_source_file as varchar) as source_file,
                cast(_source_row as bigint) as source_row,
                cast(reason_code as varchar) as reason_code,
                cast(field as varchar) as field,
                cast(reason as varchar) as reason,
                cast({raw_line[table]} as varchar) as raw_line
            from quarantine.{table}"""
            for table in quarantine_tables
        )
        queries["quarantined_rows"] = f"""
            with rejected as (
{union}
            )
            select
                q.source,
                q.service_date,
                q.source_file,
                q.source_row,
                q.reason_code,
                d.reason_description,
                q.field,
                q.reason,
                q.raw_line
            from rejected as q
            left join {_REASONS_VIEW} as d on d.reason_code = q.reason_code
            order by q.service_date, q.source, q.source_file, q.source_row, q.reason_code"""
    if ("quality", "data_checks") in columns:
        queries["data_checks"] = _DATA_CHECKS_QUERY
    return queries


def model_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The learned-model snapshot tables this warehouse can fill, with their queries.

    None without ``models.model_versions``. Otherwise ``model_versions`` (every version, by model and
    trained_through) and, for each of ``travel_time_factors``, ``service_times``, ``availability`` and
    ``recommended_windows`` that exists, the rows of the newest version of its model (:data:`MODEL_OF_TABLE`):
    the one with the largest trained_through, the latest created on a tie. A model without versions gives an
    empty file.
    """
    tables = {
        row[0]
        for row in conn.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema = 'models'"
        ).fetchall()
    }
    if "model_versions" not in tables:
        return {}
    queries = {"model_versions": "select * from models.model_versions order by model, trained_through, version"}
    for table in MODEL_TABLES:
        model = MODEL_OF_TABLE.get(table)
        if model is None or table not in tables:
            continue
        # Table and model names are the fixed constants above, never input.
        queries[table] = f"""
            select t.*
            from models.{table} as t
            where t.version = (
                select version
                from models.model_versions
                where model = '{model}'
                order by trained_through desc, created_at_utc desc, version desc
                limit 1
            )
            order by {_MODEL_TABLE_ORDER[table]}"""
    return queries


def route_geometry_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``route_geometry`` (:data:`ROUTE_GEOMETRY_QUERY`) when the warehouse has ``plans.route_geometry``, else none."""
    exists = conn.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = current_database() and table_schema = 'plans' and table_name = 'route_geometry'"
    ).fetchone()[0]
    return {"route_geometry": ROUTE_GEOMETRY_QUERY} if exists else {}


def live_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``live_vehicles``, ``live_stops`` and ``plan_versions`` (docs/replanning.md section 6) once the warehouse has
    ``plans.plan_runs``; none before (a warehouse that never planned).

    Live files hold each date's latest state (its largest ``as_of_s``) of ``plans.live_vehicles`` and
    ``plans.live_stops``; ``plan_versions`` every version of ``plans.plan_runs``. A column the warehouse lacks (a
    table not written yet; ``reason``, ``parent_plan_id``, ``as_of_s``, ``n_moved`` of plan runs from before
    re-planning) is null, so the files keep their columns and types.
    """
    present: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'plans'"
    ).fetchall():
        present.setdefault(table, set()).add(column)
    if "plan_runs" not in present:
        return {}
    queries = {}
    for name, (table, columns, order) in _LIVE_SNAPSHOT_TABLES.items():
        have = present.get(table, set())
        # Column names and types are the fixed constants above, never input.
        select = ", ".join(
            f"cast({column} as {kind}) as {column}" if column in have else f"cast(null as {kind}) as {column}"
            for column, kind in columns
        )
        if not have:
            queries[name] = f"select {select} where false"
        elif table == "plan_runs":
            queries[name] = f"select {select} from plans.{table} order by {order}"
        else:
            queries[name] = (
                f"select {select} from plans.{table} "
                f"qualify as_of_s = max(as_of_s) over (partition by service_date) order by {order}"
            )
    return queries


def current_snapshot_id(serving_dir: Path) -> str | None:
    """The id ``CURRENT`` points at, or None before the first publish."""
    pointer = serving_dir / "CURRENT"
    return pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else None


def prune_snapshots(serving_dir: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` snapshots and leftovers of killed publishes; never the current one."""
    snapshots = serving_dir / "snapshots"
    current = current_snapshot_id(serving_dir)
    complete = sorted(p for p in snapshots.iterdir() if p.is_dir() and not p.name.startswith("."))
    removed = []
    for path in complete[:-keep] if keep else complete:
        if path.name != current:
            shutil.rmtree(path)
            removed.append(path.name)
    for leftover in snapshots.glob(".*.building"):
        if leftover.name != f".{current}.building":
            shutil.rmtree(leftover)
            removed.append(leftover.name)
    for stale_pointer in serving_dir.glob(".CURRENT.*.tmp"):
        stale_pointer.unlink()
    return removed
