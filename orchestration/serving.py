"""Publishing the serving snapshot: marts -> Parquet files in a new folder -> atomic swap of ``CURRENT``.

Readers (the dashboard) resolve ``CURRENT`` and only ever see a complete snapshot: the folder is fully
written and synced before the pointer is replaced with ``os.replace``, which is atomic on POSIX.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

SNAPSHOT_QUERIES: dict[str, str] = {
    "depots": "select depot_id, depot_name as name, street, postcode, town, lat, lon, opens_s, closes_s, timezone "
    "from marts.dim_depots order by depot_id",
    "plan_runs": "select plan_id, service_date, kind, version, created_at_utc, seed, time_budget_s, runtime_s, "
    "objective, n_orders, n_assigned, n_unassigned, status, is_current "
    "from marts.dim_plan_versions order by service_date, kind, version",
    "planned_routes": "select * from marts.fct_planned_routes order by service_date, depot_id, route_id",
    "planned_stops": "select * from marts.fct_planned_stops order by service_date, route_id, sequence",
    "unassigned": "select * from marts.fct_plan_unassigned order by service_date, depot_id, order_id",
    "plan_kpis": "select * from marts.fct_plan_kpis order by service_date, depot_id",
}
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
    queries = dict(SNAPSHOT_QUERIES)
    queries.update({name: query for name, (mart, query) in OPTIONAL_SNAPSHOT_QUERIES.items() if mart in marts})
    row_counts = {}
    for name, query in queries.items():
        table = conn.execute(query).fetch_arrow_table()
        pq.write_table(table, building / f"{name}.parquet")
        row_counts[name] = table.num_rows
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
