"""Loading landing files into ``raw.*`` and ``quarantine.*``: one service-date partition at a time, atomically.

The column lists are the landing-zone contract (docs/data_contract.md). A file-level fault (missing, empty,
unreadable, wrong delimiter or encoding, missing columns, another date's file, the same file delivered twice,
too large) raises :class:`LandingFileError` naming the file and what is wrong, and nothing is written. A row
that breaks a row rule (:mod:`orchestration.quality.rules`) goes to ``quarantine.<table>`` with a reason code,
its file and line; every other row goes to ``raw.<table>`` as text. So for every file and date
``loaded = accepted + quarantined``, recorded in ``raw.ingest_log``.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.quality.rules import ACCEPTED_ROWS_RULES, PINGS_RULES, ROW_RULES, RowRule, classify_sql

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
# Live drops (issue 7, docs/replanning.md section 1): the driver app's events as in stop_events (plus
# ``breakdown``), and order management's intraday changes: change columns followed by every order column.
LANDING_COLUMNS["live_events"] = LANDING_COLUMNS["stop_events"]
# The weather station's hourly observations as they come in (the nowcast a re-plan and the weather sensor read).
LANDING_COLUMNS["live_weather"] = LANDING_COLUMNS["weather_observations"]
LANDING_COLUMNS["order_changes"] = (
    "change_id", "order_id", "change_type", "received_at_utc",
    *(c for c in LANDING_COLUMNS["orders"] if c != "order_id"),
)  # fmt: skip

OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "depots": ("reload_min",),
    "vehicle_types": (
        "capacity_parcels", "max_reloads", "max_route_km", "max_route_hours", "max_overtime_min",
        "overtime_cost_per_hour_eur", "break_min", "break_after_h",
    ),
    "vehicles": ("start_depot_id", "end_depot_id"),
    "orders": ("window2_start", "window2_end", "shipment_id", "unserved_penalty_eur"),
}  # fmt: skip
"""Contract columns a file may leave out (issue 6: solver constraints): a missing column reads as empty in every
row, and an empty field means the documented default, so files written before these columns existed stay valid."""
OPTIONAL_COLUMNS["order_changes"] = OPTIONAL_COLUMNS["orders"]
LIVE_CSV_TABLES = ("live_events", "order_changes", "live_weather")
"""Landing tables of the live drops read as CSV (issue 7); their tables come from :func:`ensure_live_raw_schema`."""

# Telematics arrive as Parquet with real types; raw keeps them typed (high volume, no text round trip). One
# file per date, so the date names the file (raw.ingest_log has it): no per-row source column to write.
PINGS_COLUMNS = ("vehicle_id", "ts_utc", "lat", "lon", "speed_kmh", "heading_deg")
_PINGS_TYPED = "vehicle_id varchar, ts_utc timestamptz, lat double, lon double, speed_kmh double, heading_deg double"
PINGS_DDL = f"create table if not exists raw.pings (service_date date not null, {_PINGS_TYPED})"
_QUARANTINE_TAIL = "reason_code varchar not null, field varchar, reason varchar not null, _source_file varchar not null"
# Live fixes come in many drops a day, so each row names its drop file and row (unlike the daily raw.pings).
LIVE_PINGS_DDL = (
    f"create table if not exists raw.live_pings (service_date date not null, {_PINGS_TYPED}, "
    "_source_file varchar not null, _source_row bigint not null)"
)
LIVE_DROP_FILE = re.compile(
    r"(?P<kind>pings|events|order_changes|weather)_(?P<hhmmss>[0-2][0-9][0-5][0-9][0-5][0-9])\.(?P<ext>parquet|csv)"
)
"""Name of a live drop file (docs/replanning.md section 1); temporary names of a drop being written do not match."""
LIVE_DROP_TABLES = {
    "order_changes": ("order_changes", "csv"),
    "events": ("live_events", "csv"),
    "pings": ("live_pings", "parquet"),
    "weather": ("live_weather", "csv"),
}
"""Drop file kind -> (raw table, extension)."""

# Sources whose files differ every day: the same bytes under two dates is a delivery mistake. Master data is
# the same file every day by design.
DATED_SOURCES = frozenset({"orders", "stop_events", "ratings", "weather_observations", "weather_forecasts", "pings"})
DEFAULT_MAX_FILE_MB = {"pings": 4096}
CSV_MAX_FILE_MB = 256


class LandingFileError(ValueError):
    """A landing file that cannot be loaded; the message names the file and what is wrong."""


@dataclass(frozen=True)
class LoadResult:
    """What one file load did: ``loaded_rows == rows + quarantined_rows``."""

    table: str
    service_date: str
    source_file: str
    sha256: str
    rows: int
    replaced_rows: int
    loaded_rows: int = 0
    quarantined_rows: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()


def max_file_mb(table: str) -> float:
    """Largest landing file accepted for ``table``, in MB (``LASTMILE_MAX_FILE_MB`` overrides every source)."""
    configured = os.environ.get("LASTMILE_MAX_FILE_MB")
    return float(configured) if configured else DEFAULT_MAX_FILE_MB.get(table, CSV_MAX_FILE_MB)


def landing_columns(table: str) -> tuple[str, ...]:
    """Every contract column of a landing source: the required ones, then the optional ones."""
    return LANDING_COLUMNS[table] + OPTIONAL_COLUMNS.get(table, ())


def _raw_columns(table: str) -> list[str]:
    return [c for c in landing_columns(table) if c != "service_date"]


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the ``raw`` and ``quarantine`` schemas, their tables and the ingest log if they do not exist."""
    daily = [table for table in LANDING_COLUMNS if table not in LIVE_CSV_TABLES]  # live: ensure_live_raw_schema
    expected = 2 * (len(daily) + 1) + 1  # raw + quarantine tables incl. pings, + ingest_log
    optional = sorted({c for columns in OPTIONAL_COLUMNS.values() for c in columns})
    present, optional_present = conn.execute(
        "select (select count(*) from duckdb_tables() where schema_name in ('raw', 'quarantine') "
        "and database_name = current_database()), "
        "(select count(*) from duckdb_columns() where schema_name in ('raw', 'quarantine') "
        "and database_name = current_database() and list_contains(?, column_name))",
        [optional],
    ).fetchone()
    # Every load calls this: keep the common case to one catalog query (optional column names are unique).
    if present >= expected and optional_present >= 2 * len(optional):
        return
    conn.execute("create schema if not exists raw")
    conn.execute("create schema if not exists quarantine")
    for table in daily:
        _create_csv_tables(conn, table)
    conn.execute(PINGS_DDL)
    conn.execute(
        f"create table if not exists quarantine.pings (service_date date not null, {_PINGS_TYPED}, "
        f"{_QUARANTINE_TAIL}, _source_row bigint not null)"
    )
    conn.execute(
        "create table if not exists raw.ingest_log (table_name varchar, service_date date, source_file varchar, "
        "sha256 varchar, rows integer, replaced_rows integer, loaded_at_utc timestamptz)"
    )
    # Warehouses from before the optional contract columns (issue 6) gain them, empty for earlier loads.
    for table, columns in OPTIONAL_COLUMNS.items():
        if table in LIVE_CSV_TABLES:
            continue
        for column in columns:
            conn.execute(f'alter table raw.{table} add column if not exists "{column}" varchar')
            conn.execute(f'alter table quarantine.{table} add column if not exists "{column}" varchar')
    # Warehouses from before the quarantine: the log gains its reconciliation columns.
    conn.execute("alter table raw.ingest_log add column if not exists loaded_rows integer")
    conn.execute("alter table raw.ingest_log add column if not exists quarantined_rows integer")


def _create_csv_tables(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """``raw.<table>`` and ``quarantine.<table>`` of a CSV source: every contract column as text."""
    cols = ", ".join(f'"{c}" varchar' for c in _raw_columns(table))
    conn.execute(
        f"create table if not exists raw.{table} (service_date date not null, {cols}, "
        "_source_file varchar not null, _source_row integer not null)"
    )
    conn.execute(
        f"create table if not exists quarantine.{table} (service_date date not null, {cols}, "
        f"_raw_line varchar, {_QUARANTINE_TAIL}, _source_row integer not null)"
    )


def ensure_live_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the live drops' tables (``raw.live_pings``, ``raw.live_events``, ``raw.order_changes``,
    ``raw.live_weather`` and their quarantine) if they do not exist, besides everything :func:`ensure_raw_schema`
    creates. Only the live flow creates them, so a warehouse without live data has none (the dbt live sources
    then read as empty)."""
    ensure_raw_schema(conn)
    for table in LIVE_CSV_TABLES:
        _create_csv_tables(conn, table)
    conn.execute(LIVE_PINGS_DDL)
    conn.execute(
        f"create table if not exists quarantine.live_pings (service_date date not null, {_PINGS_TYPED}, "
        f"{_QUARANTINE_TAIL}, _source_row bigint not null)"
    )


def _source_name(path: Path, landing_dir: Path) -> str:
    """How a landing file is named in raw, quarantine and messages: its path relative to the landing root."""
    return path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else str(path)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_file(path: Path, table: str, source_file: str, service_date: str) -> None:
    if not path.is_file():
        raise LandingFileError(
            f"{source_file}: file not found (expected for table {table}, service date {service_date})"
        )
    size_mb = path.stat().st_size / 1e6
    if path.stat().st_size == 0:
        raise LandingFileError(f"{source_file}: the file is empty (0 bytes); expected at least the header line")
    if size_mb > max_file_mb(table):
        raise LandingFileError(
            f"{source_file}: the file is {size_mb:,.1f} MB, over the {max_file_mb(table):g} MB limit for "
            f"{table} files (set LASTMILE_MAX_FILE_MB to raise it)"
        )


def _decode(path: Path, source_file: str) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LandingFileError(
            f"{source_file}: not UTF-8 text: byte 0x{data[error.start]:02x} on line {line} (export the file as UTF-8)"
        ) from None
    return text.removeprefix("\ufeff")  # a byte-order mark is not part of the first column's name


def _check_header(header: list[str], table: str, source_file: str) -> list[str]:
    """The header's column names; raises when the delimiter is wrong, a name repeats or a column is missing."""
    names = [name.strip() for name in header]
    expected = LANDING_COLUMNS[table]
    if len(names) == 1 and len(expected) > 1:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delimiter in names[0]:
                raise LandingFileError(
                    f"{source_file}: the header is separated by {label}, not commas: "
                    "the contract is comma-separated with '.' as decimal mark"
                )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LandingFileError(f"{source_file}: column(s) {', '.join(repeated)} appear more than once in the header")
    missing = [c for c in expected if c not in names]
    if missing:
        hints = []
        for column in missing:
            others = [n for n in names if n not in landing_columns(table)]
            close = difflib.get_close_matches(column, others, n=1, cutoff=0.6)
            if close:
                hints.append(f"'{close[0]}' looks like {column}")
        hint = f"; {'; '.join(hints)} (renamed?)" if hints else ""
        raise LandingFileError(
            f"{source_file}: missing column(s) {', '.join(missing)} (found: {', '.join(names)}){hint}"
        )
    return names


@dataclass(frozen=True)
class _StagedCsv:
    table: str
    source_file: str
    sha256: str
    temp_table: str
    loaded_rows: int
    ignored_columns: tuple[str, ...]


def _read_csv(path: Path, table: str, source_file: str) -> tuple[pa.Table, list[str]]:
    """Every data line of a landing CSV as text columns (+ ``_source_row``, ``_raw_line``, ``_malformed``)."""
    text = _decode(path, source_file)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise LandingFileError(f"{source_file}: the file has no header line") from None
    except csv.Error as error:
        raise LandingFileError(f"{source_file}: the header line cannot be read as CSV ({error})") from None
    names = _check_header(header, table, source_file)
    # An optional column the file leaves out reads as empty in every row (index None).
    wanted = [(names.index(c) if c in names else None, c) for c in landing_columns(table)]
    columns: dict[str, list] = {c: [] for c in landing_columns(table)}
    rows, raw_lines, malformed = [], [], []
    try:
        for values in reader:
            if not values or values == [""]:
                continue  # a blank line is not a record
            line = reader.line_num  # the physical line the record ends on
            ok = len(values) == len(names)
            for index, column in wanted:
                value = values[index].strip() if ok and index is not None and index < len(values) else ""
                columns[column].append(value or None)  # empty field = missing (contract)
            rows.append(line - 1)
            raw_lines.append(None if ok else ",".join(values))
            malformed.append(None if ok else f"line has {len(values)} fields, the header has {len(names)}")
    except csv.Error as error:
        raise LandingFileError(f"{source_file}: line {reader.line_num} cannot be read as CSV ({error})") from None
    arrays = {c: pa.array(v, pa.string()) for c, v in columns.items()}
    arrays["_source_row"] = pa.array(rows, pa.int32())
    arrays["_raw_line"] = pa.array(raw_lines, pa.string())
    arrays["_malformed"] = pa.array(malformed, pa.string())
    ignored = [n for n in names if n not in landing_columns(table)]
    return pa.table(arrays), ignored


def _with_date(sql: str) -> str:
    return sql.replace("{date}", "$service_date::date")


def _classify(conn: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, service_date: str) -> str:
    """Stage one file's rows with the first broken rule's (code, field, reason) per row; returns the temp table."""
    rules = (
        RowRule("MALFORMED_LINE", None, "_malformed is not null", "_malformed"),
        *ROW_RULES[table],
    )
    code, field_, reason = classify_sql(rules)
    for other in LANDING_COLUMNS:
        accepted = f"(select * from _landing_{other} where _reason_code is null)"
        code, field_, reason = (s.replace(f"{{staged:{other}}}", accepted) for s in (code, field_, reason))
    temp = f"_landing_{table}"
    conn.register("_landing_rows", rows)
    sql = _with_date(
        f"create or replace temp table {temp} as select *, {code} as _reason_code, {field_} as _field, "
        f"{reason} as _reason from _landing_rows"
    )
    try:
        conn.execute(sql, {"service_date": service_date} if "$service_date" in sql else None)
    finally:
        conn.unregister("_landing_rows")
    _classify_accepted_rows(conn, table, temp, service_date)
    return temp


def _classify_accepted_rows(conn: duckdb.DuckDBPyConnection, table: str, temp: str, service_date: str) -> None:
    """Second pass: rules over the rows the row rules accepted, e.g. both ends of a shipment (a pickup whose
    delivery was quarantined for bad coordinates is a lone end, and goes to quarantine too)."""
    for rule in ACCEPTED_ROWS_RULES.get(table, ()):
        sql = _with_date(
            f"update {temp} set _reason_code = '{rule.code}', _field = {_sql_text(rule.field)}, "
            f"_reason = broken._text from (select _source_row, _text from (select _source_row, {rule.bad} as _bad, "
            f"{rule.reason} as _text from {temp} where _reason_code is null) where _bad) as broken "
            f"where {temp}._source_row = broken._source_row"
        )
        conn.execute(sql, {"service_date": service_date} if "$service_date" in sql else None)


def _sql_text(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def _refuse_whole_file_faults(conn: duckdb.DuckDBPyConnection, staged: _StagedCsv, service_date: str) -> None:
    """A file whose every row is for another date, or whose bytes were already loaded for another date."""
    if "service_date" in LANDING_COLUMNS[staged.table] and staged.loaded_rows:
        wrong, total = conn.execute(
            f"select count(*) filter (where _reason_code = 'WRONG_DATE'), count(*) from {staged.temp_table}"
        ).fetchone()
        if wrong == total:
            examples = conn.execute(
                f"select _source_row + 1, service_date from {staged.temp_table} order by _source_row limit 3"
            ).fetchall()
            lines = ", ".join(f"line {line} has {value!r}" for line, value in examples)
            raise LandingFileError(
                f"{staged.source_file}: field service_date must be {service_date}: {lines} (the file of another date?)"
            )
    _refuse_redelivery(conn, staged.table, staged.source_file, staged.sha256, service_date, staged.loaded_rows)


def _refuse_redelivery(
    conn: duckdb.DuckDBPyConnection, table: str, source_file: str, sha: str, service_date: str, loaded_rows: int
) -> None:
    if table not in DATED_SOURCES or not loaded_rows:
        return
    earlier = conn.execute(
        "select source_file, service_date::varchar from raw.ingest_log where table_name = ? and sha256 = ? "
        "and service_date <> cast(? as date) order by loaded_at_utc desc limit 1",
        [table, sha, service_date],
    ).fetchone()
    if earlier:
        raise LandingFileError(
            f"{source_file}: identical to {earlier[0]}, already loaded for {earlier[1]}: the same file "
            f"delivered twice? Not loaded for {service_date}"
        )


def _stage_csv(
    conn: duckdb.DuckDBPyConnection, table: str, path: Path, service_date: str, source_file: str
) -> _StagedCsv:
    _check_file(path, table, source_file, service_date)
    rows, ignored = _read_csv(path, table, source_file)
    temp = _classify(conn, table, rows, service_date)
    staged = _StagedCsv(table, source_file, file_sha256(path), temp, rows.num_rows, tuple(ignored))
    _refuse_whole_file_faults(conn, staged, service_date)
    return staged


def _reasons(conn: duckdb.DuckDBPyConnection, query: str, params: list) -> dict[str, int]:
    return dict(conn.execute(query, params).fetchall())


def load_partition(
    conn: duckdb.DuckDBPyConnection,
    files: dict[str, Path],
    service_date: str,
    landing_dir: Path,
) -> list[LoadResult]:
    """Replace the ``raw.<table>`` and ``quarantine.<table>`` rows of one service date with landing files.

    All files are read, checked and their rows classified first; then every table's partition is replaced in
    one transaction, so a failed or killed load leaves each partition fully old or fully new.

    Parameters
    ----------
    conn
        Open connection to the warehouse (the caller owns it).
    files
        Table name (a key of ``LANDING_COLUMNS``) -> landing file. Tables that others refer to come first
        (depots and vehicle types before vehicles).
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
        On a file-level fault (see the module docstring). Nothing is written then.
    """
    ensure_raw_schema(conn)
    staged: list[_StagedCsv] = []
    try:
        for table, path in files.items():
            staged.append(_stage_csv(conn, table, path, service_date, _source_name(path, landing_dir)))

        results = []
        loaded_at = datetime.now(UTC)
        conn.execute("begin transaction")
        try:
            for item in staged:
                results.append(_replace_partition(conn, item, service_date, loaded_at))
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
    finally:
        for table in files:
            conn.execute(f"drop table if exists _landing_{table}")
    return results


def _replace_staged_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    temp: str,
    service_date: str,
    source_file_sql: str,
    order_by: str,
    params: list,
) -> tuple[int, dict[str, int]]:
    """Replace the date's rows of ``raw.<table>`` and ``quarantine.<table>`` with the staged CSV rows of ``temp``
    (clean rows to raw, rejected ones to quarantine). ``source_file_sql`` is the SQL of the source file column,
    ``params`` bind the two inserts' placeholders (the date first). Returns the rows replaced in raw and the
    quarantined rows by reason code."""
    cols = ", ".join(f'"{c}"' for c in _raw_columns(table))
    replaced = conn.execute(f"delete from raw.{table} where service_date = cast(? as date)", [service_date]).fetchone()[
        0
    ]
    conn.execute(f"delete from quarantine.{table} where service_date = cast(? as date)", [service_date])
    conn.execute(
        f"insert into raw.{table} select cast(? as date), {cols}, {source_file_sql}, _source_row "
        f"from {temp} where _reason_code is null order by {order_by}",
        params,
    )
    conn.execute(
        f"insert into quarantine.{table} select cast(? as date), {cols}, _raw_line, _reason_code, _field, _reason, "
        f"{source_file_sql}, _source_row from {temp} where _reason_code is not null order by {order_by}",
        params,
    )
    reasons = _reasons(
        conn, f"select _reason_code, count(*) from {temp} where _reason_code is not null group by all order by 1", []
    )
    return replaced, reasons


def _replace_partition(
    conn: duckdb.DuckDBPyConnection, item: _StagedCsv, service_date: str, loaded_at: datetime
) -> LoadResult:
    table = item.table
    replaced, reasons = _replace_staged_rows(
        conn, table, item.temp_table, service_date, "?", "_source_row", [service_date, item.source_file]
    )
    quarantined = sum(reasons.values())
    accepted = item.loaded_rows - quarantined
    conn.execute(
        "insert into raw.ingest_log (table_name, service_date, source_file, sha256, rows, replaced_rows, "
        "loaded_at_utc, loaded_rows, quarantined_rows) values (?, cast(? as date), ?, ?, ?, ?, ?, ?, ?)",
        [table, service_date, item.source_file, item.sha256, accepted, replaced, loaded_at, item.loaded_rows,
         quarantined],
    )  # fmt: skip
    return LoadResult(
        table, service_date, item.source_file, item.sha256, accepted, replaced, item.loaded_rows, quarantined,
        reasons, item.ignored_columns,
    )  # fmt: skip


def load_pings(conn: duckdb.DuckDBPyConnection, files: dict[str, Path], landing_dir: Path) -> list[LoadResult]:
    """Replace the ``raw.pings`` and ``quarantine.pings`` rows of one or more service dates, atomically.

    One statement reads every file through DuckDB's own Parquet reader (no Python row loop; the columns keep
    their Parquet types), so a backfill over a range of dates costs about what a bare copy of the files does.
    Fixes that break a rule of :data:`~orchestration.quality.rules.PINGS_RULES` (no position, another day, a
    vehicle not in the fleet of the date) go to ``quarantine.pings`` with their file and row; GPS noise (jitter,
    jumps, duplicates) is kept: cleaning it is the job of ``int_pings_cleaned``.

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
        When a file is missing, empty, too large, not readable Parquet, lacks contract columns, holds no fix
        of its date, or is byte-identical to a file loaded for another date. Nothing is written then.
    """
    ensure_raw_schema(conn)
    sources = {}
    for service_date in sorted(files):
        path = files[service_date]
        source = _source_name(path, landing_dir)
        _check_file(path, "pings", source, service_date)
        sources[str(path)] = (service_date, source, file_sha256(path))
    by_file = pd.DataFrame(
        [(path, service_date, source) for path, (service_date, source, _) in sources.items()],
        columns=["path", "service_date", "source_file"],
    )
    conn.register("_pings_files", by_file)
    try:
        _stage_pings(conn, sources)
        conn.execute("begin transaction")
        try:
            results = _replace_pings(conn, sources)
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
    finally:
        conn.unregister("_pings_files")
        conn.execute("drop table if exists _landing_pings")
    return sorted(results, key=lambda r: r.service_date)


def _stage_pings_sql(temp: str, files: str, service_date_sql: str) -> str:
    """The statement that reads pings Parquet files (``?``: their paths) into the temp table ``temp``, each row
    joined to its file in the registered view ``files`` (``path, source_file``), dated by ``service_date_sql``
    and classified by :data:`~orchestration.quality.rules.PINGS_RULES` (``_reason_code``, null when clean)."""
    code = " ".join(f"when {r.bad} then '{r.code}'" for r in PINGS_RULES)
    return (
        f"create or replace temp table {temp} as "
        f"select *, case {code} end as _reason_code from ("
        f"select {service_date_sql} as service_date, p.vehicle_id, p.ts_utc, p.lat, p.lon, p.speed_kmh, "
        "p.heading_deg, f.source_file, p.file_row_number + 1 as _source_row "
        "from read_parquet(?, filename = true, file_row_number = true) p "
        f"join {files} f on p.filename = f.path) p"
    )


def _quarantine_pings_sql(table: str, temp: str, order_by: str) -> str:
    """The statement that copies the rejected rows of a staged pings temp table into ``quarantine.<table>``, with
    the field and the reason of the rule each broke."""
    field_ = " ".join(f"when _reason_code = '{r.code}' and ({r.bad}) then '{r.field}'" for r in PINGS_RULES)
    reason = " ".join(f"when _reason_code = '{r.code}' and ({r.bad}) then {r.reason}" for r in PINGS_RULES)
    return (
        f"insert into quarantine.{table} select service_date, vehicle_id, ts_utc, lat, lon, speed_kmh, heading_deg, "
        f"_reason_code, case {field_} end, case {reason} end, source_file, _source_row "
        f"from {temp} p where _reason_code is not null order by {order_by}"
    )


def _stage_pings(conn: duckdb.DuckDBPyConnection, sources: dict[str, tuple[str, str, str]]) -> None:
    try:
        # One scan over all files; each row takes its date from its file (joined on the file name).
        conn.execute(
            _stage_pings_sql("_landing_pings", "_pings_files", "cast(f.service_date as date)"), [list(sources)]
        )
    except duckdb.BinderException as error:
        raise LandingFileError(_missing_pings_message(conn, sources)) from error
    except duckdb.Error as error:
        names = ", ".join(source for _, source, _ in sources.values())
        raise LandingFileError(f"{names}: not a readable Parquet file ({error})") from error
    counts = {
        d: (total, out_of_day, first)
        for d, total, out_of_day, first in conn.execute(
            "select service_date::varchar, count(*), count(*) filter (where _reason_code = 'OUT_OF_DAY'), "
            "min(ts_utc)::varchar from _landing_pings group by all"
        ).fetchall()
    }
    for _, (service_date, source, sha) in sources.items():
        total, out_of_day, first = counts.get(service_date, (0, 0, None))
        if total and out_of_day == total:
            raise LandingFileError(
                f"{source}: holds no fix of {service_date} (the first is at {first} UTC): the file of another date?"
            )
        _refuse_redelivery(conn, "pings", source, sha, service_date, total)


def _replace_pings(conn: duckdb.DuckDBPyConnection, sources: dict[str, tuple[str, str, str]]) -> list[LoadResult]:
    in_run = "service_date in (select cast(service_date as date) from _pings_files)"
    replaced = dict(
        conn.execute(f"select service_date::varchar, count(*) from raw.pings where {in_run} group by all").fetchall()
    )
    conn.execute(f"delete from raw.pings where {in_run}")
    conn.execute(f"delete from quarantine.pings where {in_run}")
    conn.execute(
        "insert into raw.pings select service_date, vehicle_id, ts_utc, lat, lon, speed_kmh, heading_deg "
        "from _landing_pings where _reason_code is null"
    )
    conn.execute(_quarantine_pings_sql("pings", "_landing_pings", "service_date, _source_row"))
    stats = {
        d: (loaded, quarantined)
        for d, loaded, quarantined in conn.execute(
            "select service_date::varchar, count(*), count(*) filter (where _reason_code is not null) "
            "from _landing_pings group by all"
        ).fetchall()
    }
    reasons: dict[str, dict[str, int]] = {}
    for d, code, n in conn.execute(
        "select service_date::varchar, _reason_code, count(*) from _landing_pings "
        "where _reason_code is not null group by all order by 1, 2"
    ).fetchall():
        reasons.setdefault(d, {})[code] = n
    loaded_at = datetime.now(UTC)
    results = []
    for service_date, source, sha in sources.values():
        loaded, quarantined = stats.get(service_date, (0, 0))
        result = LoadResult(
            "pings", service_date, source, sha, loaded - quarantined, replaced.get(service_date, 0), loaded,
            quarantined, reasons.get(service_date, {}),
        )  # fmt: skip
        conn.execute(
            "insert into raw.ingest_log (table_name, service_date, source_file, sha256, rows, replaced_rows, "
            "loaded_at_utc, loaded_rows, quarantined_rows) values ('pings', cast(? as date), ?, ?, ?, ?, ?, ?, ?)",
            [service_date, source, sha, result.rows, result.replaced_rows, loaded_at, loaded, quarantined],
        )
        results.append(result)
    return results


def _missing_pings_message(conn: duckdb.DuckDBPyConnection, sources: dict[str, tuple[str, str, str]]) -> str:
    problems = []
    for path, (_, source, _) in sources.items():
        present = {row[0] for row in conn.execute("select name from parquet_schema(?)", [path]).fetchall()}
        missing = [c for c in PINGS_COLUMNS if c not in present]
        if missing:
            problems.append(f"{source}: missing column(s) {', '.join(missing)}")
    return "; ".join(problems) or "pings files do not match the contract's columns"


def live_drop_files(landing_dir: Path, service_date: str) -> dict[str, list[Path]]:
    """The live drops of a service date present under ``landing/live/YYYY-MM-DD/``, by raw table, in time order.

    Files whose name does not follow ``{pings,events,order_changes,weather}_HHMMSS.{parquet,csv}`` (a drop still
    being written under a temporary name, anything else) are left alone. A date without a folder has no drops.

    Returns
    -------
    dict[str, list[Path]]
        ``live_pings``, ``live_events``, ``order_changes`` and ``live_weather`` -> their drop files (possibly
        none).
    """
    files: dict[str, list[Path]] = {table: [] for table, _ in LIVE_DROP_TABLES.values()}
    folder = landing_dir / "live" / service_date
    if not folder.is_dir():
        return files
    for path in sorted(folder.iterdir()):
        match = LIVE_DROP_FILE.fullmatch(path.name)
        if match is None or not path.is_file():
            continue
        table, extension = LIVE_DROP_TABLES[match["kind"]]
        if match["ext"] == extension:
            files[table].append(path)
    return files


def _live_source_name(table: str, service_date: str) -> str:
    """How the ingest log names a date's drops of one table: the file pattern, e.g. ``live/<date>/events_*.csv``."""
    kind, (_, extension) = next((k, v) for k, v in LIVE_DROP_TABLES.items() if v[0] == table)
    return f"live/{service_date}/{kind}_*.{extension}"


def _combined_sha256(paths: list[Path], landing_dir: Path) -> str:
    """One digest over several files: their names and contents, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(f"{_source_name(path, landing_dir)}:{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def _stage_live_csv(
    conn: duckdb.DuckDBPyConnection, table: str, paths: list[Path], service_date: str, landing_dir: Path
) -> int:
    """Read and classify every drop file of one CSV table into ``_landing_<table>``; returns the rows read."""
    parts = []
    for path in paths:
        source = _source_name(path, landing_dir)
        _check_file(path, table, source, service_date)
        rows, _ = _read_csv(path, table, source)
        parts.append(rows.append_column("_source_file", pa.array([source] * rows.num_rows, pa.string())))
    if parts:
        rows = pa.concat_tables(parts)
    else:
        rows = pa.table(
            {
                **{c: pa.array([], pa.string()) for c in landing_columns(table)},
                "_source_row": pa.array([], pa.int32()),
                "_raw_line": pa.array([], pa.string()),
                "_malformed": pa.array([], pa.string()),
                "_source_file": pa.array([], pa.string()),
            }
        )
    temp = _classify(conn, table, rows, service_date)
    # A drop whose every row is of another date is a misdelivered file, as for the daily files.
    for source, wrong, total in conn.execute(
        f"select _source_file, count(*) filter (where _reason_code = 'WRONG_DATE'), count(*) from {temp} "
        "group by all order by 1"
    ).fetchall():
        if wrong == total:
            raise LandingFileError(f"{source}: field service_date must be {service_date} on every row (the file of "
                                   "another date?)")  # fmt: skip
    return rows.num_rows


def _stage_live_pings(conn: duckdb.DuckDBPyConnection, paths: list[Path], service_date: str, landing_dir: Path) -> int:
    """Read and classify every live pings drop of the date into ``_landing_live_pings``; returns the rows read."""
    sources = {}
    for path in paths:
        source = _source_name(path, landing_dir)
        _check_file(path, "pings", source, service_date)
        sources[str(path)] = source
    if not sources:
        conn.execute(
            "create or replace temp table _landing_live_pings as select *, null::varchar as source_file, "
            "null::bigint as _source_row, null::varchar as _reason_code from raw.pings limit 0"
        )
        return 0
    by_file = pd.DataFrame({"path": list(sources), "source_file": list(sources.values())})
    conn.register("_live_pings_files", by_file)
    try:
        conn.execute(
            _stage_pings_sql("_landing_live_pings", "_live_pings_files", "cast(? as date)"),
            [service_date, list(sources)],
        )
    except duckdb.BinderException as error:
        names = ", ".join(sources.values())
        raise LandingFileError(f"{names}: missing pings column(s) of the contract ({', '.join(PINGS_COLUMNS)})") from (
            error
        )
    except duckdb.Error as error:
        names = ", ".join(sources.values())
        raise LandingFileError(f"{names}: not a readable Parquet file ({error})") from error
    finally:
        conn.unregister("_live_pings_files")
    for source, off_day, total in conn.execute(
        "select source_file, count(*) filter (where _reason_code = 'OUT_OF_DAY'), count(*) "
        "from _landing_live_pings group by all order by 1"
    ).fetchall():
        if total and off_day == total:
            raise LandingFileError(f"{source}: holds no fix of {service_date}: the drop of another date?")
    return conn.execute("select count(*) from _landing_live_pings").fetchone()[0]


def _replace_live_csv(
    conn: duckdb.DuckDBPyConnection, table: str, service_date: str, loaded_rows: int
) -> tuple[int, int, dict[str, int]]:
    """Replace the date's rows of ``raw.<table>`` and ``quarantine.<table>`` with the staged drops."""
    replaced, reasons = _replace_staged_rows(
        conn, table, f"_landing_{table}", service_date, "_source_file", "_source_file, _source_row", [service_date]
    )
    return replaced, loaded_rows - sum(reasons.values()), reasons


def _replace_live_pings(conn: duckdb.DuckDBPyConnection, service_date: str) -> tuple[int, int, dict[str, int]]:
    replaced = conn.execute(
        "delete from raw.live_pings where service_date = cast(? as date)", [service_date]
    ).fetchone()[0]
    conn.execute("delete from quarantine.live_pings where service_date = cast(? as date)", [service_date])
    conn.execute(
        "insert into raw.live_pings select service_date, vehicle_id, ts_utc, lat, lon, speed_kmh, heading_deg, "
        "source_file, _source_row from _landing_live_pings where _reason_code is null order by source_file, _source_row"
    )
    conn.execute(_quarantine_pings_sql("live_pings", "_landing_live_pings", "source_file, _source_row"))
    reasons = _reasons(
        conn,
        "select _reason_code, count(*) from _landing_live_pings where _reason_code is not null group by all order by 1",
        [],
    )
    accepted = conn.execute("select count(*) from _landing_live_pings where _reason_code is null").fetchone()[0]
    return replaced, accepted, reasons


def load_live_drops(
    conn: duckdb.DuckDBPyConnection, files: dict[str, list[Path]], service_date: str, landing_dir: Path
) -> list[LoadResult]:
    """Replace the date's ``raw.live_pings``, ``raw.live_events``, ``raw.order_changes`` and ``raw.live_weather``
    rows with its drops.

    Every drop file present is read and its rows classified by the row rules first (order changes before
    events, which may name an order placed during the day); then the four tables and their quarantine are
    replaced in one transaction, so a re-run with more drops gives the date's full set, never a duplicate. Each
    raw row keeps ``_source_file`` (the drop) and ``_source_row``. A table without drops is emptied for the date
    and gets no ``raw.ingest_log`` row; one with drops gets one row for all its drops of the date
    (``source_file`` = the pattern ``live/<date>/<kind>_*.<ext>``), ``loaded = accepted + quarantined``.

    Parameters
    ----------
    conn
        Open connection to the warehouse (the caller owns it).
    files
        Raw table (``live_pings``, ``live_events``, ``order_changes``, ``live_weather``) -> its drop files
        (:func:`live_drop_files`); a table left out has none.
    service_date
        Partition key, ``YYYY-MM-DD``.
    landing_dir
        Landing root; ``_source_file`` is stored relative to it.

    Returns
    -------
    list[LoadResult]
        One per table with at least one drop file.

    Raises
    ------
    LandingFileError
        On a file-level fault of any drop (missing, empty, not UTF-8, wrong delimiter, missing columns, every
        row of another date, unreadable Parquet). Nothing is written then.
    """
    ensure_live_raw_schema(conn)
    csv_tables = ("order_changes", "live_events", "live_weather")
    try:
        loaded = {table: _stage_live_csv(conn, table, files.get(table, []), service_date, landing_dir)
                  for table in csv_tables}  # fmt: skip
        loaded["live_pings"] = _stage_live_pings(conn, files.get("live_pings", []), service_date, landing_dir)
        loaded_at = datetime.now(UTC)
        results = []
        conn.execute("begin transaction")
        try:
            for table in (*csv_tables, "live_pings"):
                if table == "live_pings":
                    replaced, accepted, reasons = _replace_live_pings(conn, service_date)
                else:
                    replaced, accepted, reasons = _replace_live_csv(conn, table, service_date, loaded[table])
                paths = files.get(table, [])
                if not paths:
                    continue
                result = LoadResult(
                    table, service_date, _live_source_name(table, service_date),
                    _combined_sha256(paths, landing_dir), accepted, replaced, loaded[table], loaded[table] - accepted,
                    reasons,
                )  # fmt: skip
                conn.execute(
                    "insert into raw.ingest_log (table_name, service_date, source_file, sha256, rows, replaced_rows, "
                    "loaded_at_utc, loaded_rows, quarantined_rows) values (?, cast(? as date), ?, ?, ?, ?, ?, ?, ?)",
                    [table, service_date, result.source_file, result.sha256, result.rows, replaced, loaded_at,
                     result.loaded_rows, result.quarantined_rows],
                )  # fmt: skip
                results.append(result)
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
    finally:
        for table in (*csv_tables, "live_pings"):
            conn.execute(f"drop table if exists _landing_{table}")
    return results
