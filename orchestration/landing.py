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
import pandas as pd

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
    "stop_events": (
        "event_id", "service_date", "vehicle_id", "driver_id", "order_id", "event_type", "ts_utc", "lat", "lon",
        "failure_reason", "attempt",
    ),
    "ratings": ("order_id", "customer_id", "rating", "comment", "rated_at_utc"),
    "weather_observations": ("observed_at_utc", "temperature_c", "precipitation_mm", "wind_kmh", "condition"),
    "weather_forecasts": (
        "issued_at_utc", "valid_at_utc", "temperature_c", "precipitation_mm", "precipitation_probability",
        "condition",
    ),
}  # fmt: skip

# Telematics arrive as Parquet with real types; raw keeps them typed (high volume, no text round trip). One
# file per date, so the date names the file (raw.ingest_log has it): no per-row source column to write.
PINGS_DDL = (
    "create table if not exists raw.pings (service_date date not null, vehicle_id varchar, ts_utc timestamptz, "
    "lat double, lon double, speed_kmh double, heading_deg double)"
)


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
    expected = len(LANDING_COLUMNS) + 2  # + pings + ingest_log
    present = conn.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and database_name = current_database()"
    ).fetchone()[0]
    if present >= expected:  # every load calls this: keep the common case to one catalog query
        return
    conn.execute("create schema if not exists raw")
    for table in LANDING_COLUMNS:
        cols = ", ".join(f'"{c}" varchar' for c in _raw_columns(table))
        conn.execute(
            f"create table if not exists raw.{table} (service_date date not null, {cols}, "
            "_source_file varchar not null, _source_row integer not null)"
        )
    conn.execute(PINGS_DDL)
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


def _stage_file(conn: duckdb.DuckDBPyConnection, table: str, path: Path, service_date: str, source_file: str) -> str:
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
        raise LandingFileError(f"{source_file}: missing column(s) {', '.join(missing)} (found: {', '.join(present)})")
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
            source_file = path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else str(path)
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


PINGS_COLUMNS = ("vehicle_id", "ts_utc", "lat", "lon", "speed_kmh", "heading_deg")


def load_pings(conn: duckdb.DuckDBPyConnection, files: dict[str, Path], landing_dir: Path) -> list[LoadResult]:
    """Replace the ``raw.pings`` rows of one or more service dates with their telematics Parquet files, atomically.

    One statement reads every file through DuckDB's own Parquet reader (no Python row loop; the columns keep
    their Parquet types), so a backfill over a range of dates costs about what a bare copy of the files does.

    Parameters
    ----------
    conn
        Open connection to the warehouse (the caller owns it).
    files
        Service date ``YYYY-MM-DD`` -> that date's pings file.
    landing_dir
        Landing root; ``_source_file`` is stored relative to it.

    Returns
    -------
    list[LoadResult]
        One per date, in date order.

    Raises
    ------
    LandingFileError
        When a file is missing, is not readable Parquet, or lacks contract columns. Nothing is written then.
    """
    ensure_raw_schema(conn)
    dates = sorted(files)
    sources = {}
    for service_date in dates:
        path = files[service_date]
        source = path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else str(path)
        if not path.is_file():
            raise LandingFileError(f"{source}: file not found (expected for table pings, service date {service_date})")
        sources[str(path)] = (service_date, source, file_sha256(path))
    by_file = pd.DataFrame(
        [(path, service_date, source) for path, (service_date, source, _) in sources.items()],
        columns=["path", "service_date", "source_file"],
    )
    conn.register("_pings_files", by_file)
    conn.execute("begin transaction")
    try:
        replaced = dict(
            conn.execute(
                "select service_date::varchar, count(*) from raw.pings "
                "where service_date in (select cast(service_date as date) from _pings_files) group by all"
            ).fetchall()
        )
        conn.execute(
            "delete from raw.pings where service_date in (select cast(service_date as date) from _pings_files)"
        )
        # The insert itself checks the files (schema, integrity): no second read on the happy path.
        try:
            # One scan over all files; each row takes its date from its file (joined on the file name).
            conn.execute(
                "insert into raw.pings select cast(f.service_date as date), p.vehicle_id, p.ts_utc, p.lat, p.lon, "
                "p.speed_kmh, p.heading_deg from read_parquet(?, filename = true) p "
                "join _pings_files f on p.filename = f.path",
                [list(sources)],
            )
        except duckdb.BinderException as error:
            raise LandingFileError(_missing_pings_message(conn, sources)) from error
        except duckdb.Error as error:
            names = ", ".join(source for _, source, _ in sources.values())
            raise LandingFileError(f"{names}: not a readable Parquet file ({error})") from error
        rows = dict(
            conn.execute(
                "select service_date::varchar, count(*) from raw.pings "
                "where service_date in (select cast(service_date as date) from _pings_files) group by all"
            ).fetchall()
        )
        loaded_at = datetime.now(UTC)
        results = []
        for service_date, source, sha in sources.values():
            result = LoadResult(
                "pings", service_date, source, sha, rows.get(service_date, 0), replaced.get(service_date, 0)
            )
            conn.execute(
                "insert into raw.ingest_log values ('pings', cast(? as date), ?, ?, ?, ?, ?)",
                [service_date, source, sha, result.rows, result.replaced_rows, loaded_at],
            )
            results.append(result)
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    finally:
        conn.unregister("_pings_files")
    return sorted(results, key=lambda r: r.service_date)


def _missing_pings_message(conn: duckdb.DuckDBPyConnection, sources: dict[str, tuple[str, str, str]]) -> str:
    problems = []
    for path, (_, source, _) in sources.items():
        present = {row[0] for row in conn.execute("select name from parquet_schema(?)", [path]).fetchall()}
        missing = [c for c in PINGS_COLUMNS if c not in present]
        if missing:
            problems.append(f"{source}: missing column(s) {', '.join(missing)}")
    return "; ".join(problems) or "pings files do not match the contract's columns"
