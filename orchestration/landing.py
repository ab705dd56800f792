"""Loading landing files into ``raw.*``: one service-date partition at a time, in one transaction.

The column lists are the landing-zone contract (docs/data_contract.md). Every column is loaded as text, so a
malformed value never stops a load; staging models cast and test them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

LANDING_COLUMNS: dict[str, tuple[str, ...]] = {
    "depots": ("depot_id", "name", "street", "postcode", "town", "lat", "lon", "opens", "closes", "timezone"),
    "vehicle_types": (
        "vehicle_type",
        "description",
        "capacity_kg",
        "capacity_l",
        "avg_speed_kmh",
        "cost_per_km_eur",
        "cost_per_hour_eur",
        "cost_per_day_eur",
        "skills",
    ),
    "vehicles": ("vehicle_id", "depot_id", "vehicle_type", "shift_start", "shift_end", "work_days"),
    "orders": (
        "order_id",
        "customer_id",
        "service_date",
        "order_type",
        "street",
        "postcode",
        "town",
        "lat",
        "lon",
        "site_type",
        "parcels",
        "weight_kg",
        "volume_l",
        "window_start",
        "window_end",
        "priority",
        "required_skills",
        "notes",
        "created_at_utc",
    ),
}


class LandingFileError(ValueError):
    """A landing file that cannot be loaded; the message names the file and what is wrong."""


@dataclass(frozen=True)
class LoadResult:
    """What one file load did."""

    table: str
    service_date: str
    source_file: str
    sha256: str
    rows: int
    replaced_rows: int


def _raw_columns(table: str) -> list[str]:
    return [c for c in LANDING_COLUMNS[table] if c != "service_date"]


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the ``raw`` schema, its tables and the ingest log if they do not exist."""
    conn.execute("create schema if not exists raw")
    for table in LANDING_COLUMNS:
        cols = ", ".join(f'"{c}" varchar' for c in _raw_columns(table))
        conn.execute(
            f"create table if not exists raw.{table} (service_date date not null, {cols}, "
            "_source_file varchar not null, _source_row integer not null)"
        )
    conn.execute(
        "create table if not exists raw.ingest_log (table_name varchar, service_date date, source_file varchar, "
        "sha256 varchar, rows integer, replaced_rows integer, loaded_at_utc timestamptz)"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stage_file(
    conn: duckdb.DuckDBPyConnection, table: str, path: Path, service_date: str, source_file: str
) -> str:
    """Read one CSV into a temp table and check it against the contract; returns the temp table's name."""
    if not path.is_file():
        raise LandingFileError(
            f"{source_file}: file not found (expected for table {table}, service date {service_date})"
        )
    staged = f"_landing_{table}"
    conn.execute(
        f"create or replace temp table {staged} as "
        "select * from read_csv(?, all_varchar = true, header = true, auto_detect = true)",
        [str(path)],
    )
    present = [row[0] for row in conn.execute(f"select column_name from (describe {staged})").fetchall()]
    missing = [c for c in LANDING_COLUMNS[table] if c not in present]
    if missing:
        raise LandingFileError(
            f"{source_file}: missing column(s) {', '.join(missing)} (found: {', '.join(present)})"
        )
    if "service_date" in LANDING_COLUMNS[table]:
        wrong = conn.execute(
            f"select rowid + 2 as line, service_date from {staged} "
            "where service_date is distinct from ? order by rowid limit 5",
            [service_date],
        ).fetchall()
        if wrong:
            lines = ", ".join(f"line {line} has {value!r}" for line, value in wrong)
            raise LandingFileError(f"{source_file}: field service_date must be {service_date}: {lines}")
    return staged


def load_partition(
    conn: duckdb.DuckDBPyConnection,
    files: dict[str, Path],
    service_date: str,
    landing_dir: Path,
) -> list[LoadResult]:
    """Replace the ``raw.<table>`` rows of one service date with the contents of landing files, atomically.

    All files are read and checked first; then every table's partition is replaced in one transaction, so a
    failed or killed load leaves each partition fully old or fully new.

    Parameters
    ----------
    conn
        Open connection to the warehouse (the caller owns it).
    files
        Table name (a key of ``LANDING_COLUMNS``) -> landing file.
    service_date
        Partition key, ``YYYY-MM-DD``.
    landing_dir
        Landing root; ``_source_file`` is stored relative to it.

    Returns
    -------
    list[LoadResult]
        One per file, in the order given.

    Raises
    ------
    LandingFileError
        When a file is missing, lacks contract columns, or (orders) holds rows of another service date.
        Nothing is written then.
    """
    ensure_raw_schema(conn)
    staged: dict[str, tuple[str, str, str]] = {}
    try:
        for table, path in files.items():
            source_file = (
                path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else str(path)
            )
            staged[table] = (
                _stage_file(conn, table, path, service_date, source_file),
                source_file,
                file_sha256(path),
            )

        results = []
        loaded_at = datetime.now(UTC)
        conn.execute("begin transaction")
        try:
            for table, (temp_table, source_file, sha) in staged.items():
                select_cols = ", ".join(f'"{c}"' for c in _raw_columns(table))
                replaced = conn.execute(
                    f"delete from raw.{table} where service_date = cast(? as date)", [service_date]
                ).fetchone()[0]
                conn.execute(
                    f"insert into raw.{table} select cast(? as date), {select_cols}, ?, cast(rowid + 1 as integer) "
                    f"from {temp_table} order by rowid",
                    [service_date, source_file],
                )
                rows = conn.execute(
                    f"select count(*) from raw.{table} where service_date = cast(? as date)", [service_date]
                ).fetchone()[0]
                conn.execute(
                    "insert into raw.ingest_log values (?, cast(? as date), ?, ?, ?, ?, ?)",
                    [table, service_date, source_file, sha, rows, replaced, loaded_at],
                )
                results.append(LoadResult(table, service_date, source_file, sha, rows, replaced))
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
    finally:
        for table in files:
            conn.execute(f"drop table if exists _landing_{table}")
    return results
