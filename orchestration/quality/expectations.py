"""Great Expectations suites for every landing source, run on each loaded partition.

A suite validates the partition *as loaded*: the rows in ``raw.<table>`` and the rows of the same file in
``quarantine.<table>`` (flag ``_accepted``), typed. It checks, independently of the SQL row rules that filled the
quarantine:

* the share of quarantined rows stays within the source's tolerance (a broken export is not planned on);
* the accepted rows honour the contract: ids present and unique, values in range, windows that end after they
  start, references that resolve (an event for a known order, a vehicle of a known depot);
* plausibility: positions inside the service area, loads that fit the largest vehicle, timestamps on the day.

Every expectation carries a severity in its ``meta``: ``critical`` failures block planning for the partition
(the raw asset's check is blocking), ``warning`` failures are reported. Messages name file, line and field.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

CRITICAL = "critical"
WARNING = "warning"
CHECK_NAME = "gx_expectations"

# Largest share of a file's rows that may be quarantined before the partition counts as broken. Fleet master
# data must be whole: one lost vehicle silently shrinks the plan.
QUARANTINE_TOLERANCE = {
    "depots": 0.0,
    "vehicle_types": 0.0,
    "vehicles": 0.0,
    "orders": 0.05,
    "stop_events": 0.05,
    "ratings": 0.10,
    "weather_observations": 0.10,
    "weather_forecasts": 0.10,
    "pings": 0.05,
}
KEEP_DATES = 31
"""Dates of stored validation results kept per source in the Data Docs site."""
SERVICE_AREA_MARGIN_M = 50_000.0
"""How far from the nearest depot's bounding box a position still counts as inside the service area."""

# Typed view of each source's columns for the suite (raw keeps text); anything else stays text.
_NUMERIC = {
    "depots": ("lat", "lon", "reload_min"),
    "vehicle_types": (
        "capacity_kg",
        "capacity_l",
        "avg_speed_kmh",
        "cost_per_km_eur",
        "cost_per_hour_eur",
        "capacity_parcels",
        "max_reloads",
        "max_route_km",
        "max_route_hours",
        "max_overtime_min",
        "overtime_cost_per_hour_eur",
        "break_min",
        "break_after_h",
    ),
    "vehicles": (),
    "orders": ("lat", "lon", "parcels", "weight_kg", "volume_l", "unserved_penalty_eur"),
    "stop_events": ("lat", "lon"),
    "ratings": ("rating",),
    "weather_observations": ("temperature_c", "precipitation_mm", "wind_kmh"),
    "weather_forecasts": ("temperature_c", "precipitation_mm", "precipitation_probability"),
}
_TIMESTAMPS = {
    "orders": ("window_start", "window_end", "window2_start", "window2_end", "created_at_utc"),
    "stop_events": ("ts_utc",),
    "ratings": ("rated_at_utc",),
    "weather_observations": ("observed_at_utc",),
    "weather_forecasts": ("issued_at_utc", "valid_at_utc"),
}
_KEYS = {
    "depots": "depot_id",
    "vehicle_types": "vehicle_type",
    "vehicles": "vehicle_id",
    "orders": "order_id",
    "stop_events": "event_id",
    "ratings": "order_id",
    "weather_observations": "observed_at_utc",
    "weather_forecasts": "valid_at_utc",
}


@dataclass(frozen=True)
class Finding:
    """One failed expectation."""

    expectation: str
    field: str | None
    severity: str
    description: str
    unexpected_count: int
    element_count: int
    examples: tuple[str, ...]

    def message(self) -> str:
        share = f"{self.unexpected_count} of {self.element_count} rows" if self.element_count else "the table"
        examples = f": {'; '.join(self.examples)}" if self.examples else ""
        return f"[{self.severity}] {self.description} ({share}){examples}"


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one suite on one partition."""

    table: str
    service_date: str
    evaluated: int
    findings: tuple[Finding, ...]
    data_docs_path: str | None

    @property
    def passed(self) -> bool:
        """No failed expectation at all."""
        return not self.findings

    @property
    def blocking(self) -> bool:
        """A critical expectation failed: planning must not run on this partition."""
        return any(f.severity == CRITICAL for f in self.findings)

    @property
    def severity(self) -> str | None:
        """``critical`` when blocking, ``warning`` when only warnings failed, ``None`` when all passed."""
        if self.passed:
            return None
        return CRITICAL if self.blocking else WARNING

    def message(self) -> str:
        if self.passed:
            return f"{self.table} {self.service_date}: all {self.evaluated} expectations met"
        lines = [f"{self.table} {self.service_date}: {len(self.findings)} of {self.evaluated} expectations failed"]
        lines += [f.message() for f in sorted(self.findings, key=lambda f: f.severity != CRITICAL)]
        return "\n".join(lines)


@dataclass(frozen=True)
class PartitionContext:
    """Facts about the date that parameterise the suites (the service area, the fleet, the day's orders)."""

    service_date: str
    area: tuple[float, float, float, float] | None  # min_lat, max_lat, min_lon, max_lon
    max_capacity_kg: float | None
    max_capacity_l: float | None
    depot_ids: tuple[str, ...]
    vehicle_types: tuple[str, ...]
    vehicle_ids: tuple[str, ...]
    order_ids: tuple[str, ...]


def partition_context(conn: duckdb.DuckDBPyConnection, service_date: str) -> PartitionContext:
    """Read what the suites need to know about the date from ``raw`` (accepted rows only)."""
    date = [service_date]
    bounds = conn.execute(
        "select min(try_cast(lat as double)), max(try_cast(lat as double)), min(try_cast(lon as double)), "
        "max(try_cast(lon as double)) from raw.depots where service_date = ?",
        date,
    ).fetchone()
    area = None
    if bounds[0] is not None:
        dlat = SERVICE_AREA_MARGIN_M / 111_320
        dlon = dlat / max(math.cos(math.radians(max(abs(bounds[0]), abs(bounds[1])))), 0.1)
        area = (bounds[0] - dlat, bounds[1] + dlat, bounds[2] - dlon, bounds[3] + dlon)
    capacity = conn.execute(
        "select max(try_cast(capacity_kg as double)), max(try_cast(capacity_l as double)) "
        "from raw.vehicle_types where service_date = ?",
        date,
    ).fetchone()

    def ids(sql: str) -> tuple[str, ...]:
        return tuple(sorted(r[0] for r in conn.execute(sql, date).fetchall() if r[0] is not None))

    return PartitionContext(
        service_date,
        area,
        capacity[0],
        capacity[1],
        ids("select depot_id from raw.depots where service_date = ?"),
        ids("select vehicle_type from raw.vehicle_types where service_date = ?"),
        ids("select vehicle_id from raw.vehicles where service_date = ?"),
        ids("select order_id from raw.orders where service_date = ?"),
    )


def partition_frame(conn: duckdb.DuckDBPyConnection, table: str, service_date: str) -> pd.DataFrame:
    """The partition as loaded: accepted rows (``_accepted``) and quarantined rows of the date, typed."""
    if table == "pings":
        return conn.execute(
            "select vehicle_id, ts_utc, lat, lon, speed_kmh, true as _accepted, cast(null as varchar) as _reason, "
            "(select any_value(source_file order by loaded_at_utc desc) from raw.ingest_log "
            " where table_name = 'pings' and service_date = cast($d as date)) as _source_file, "
            "cast(null as bigint) as _source_row from raw.pings where service_date = cast($d as date) "
            "union all select vehicle_id, ts_utc, lat, lon, speed_kmh, false, reason_code || ': ' || reason, "
            "_source_file, _source_row "
            "from quarantine.pings where service_date = cast($d as date)",
            {"d": service_date},
        ).df()
    from orchestration.landing import landing_columns

    columns = []
    for column in landing_columns(table):
        if column in _NUMERIC.get(table, ()):
            columns.append(f"try_cast({column} as double) as {column}")
        elif column in _TIMESTAMPS.get(table, ()):
            columns.append(f"try_cast({column} as timestamptz) as {column}")
        elif column == "service_date":
            columns.append("cast(service_date as varchar) as service_date_value")
        else:
            columns.append(column)
    select = ", ".join(columns)
    return conn.execute(
        f"select {select}, true as _accepted, cast(null as varchar) as _reason, _source_file, _source_row "
        f"from raw.{table} "
        "where service_date = cast(? as date) "
        f"union all select {select}, false, reason_code || ': ' || reason, _source_file, _source_row "
        f"from quarantine.{table} "
        "where service_date = cast(? as date) order by _source_row",
        [service_date, service_date],
    ).df()


def build_suite(table: str, ctx: PartitionContext):
    """The expectation suite of one landing source for one date (GX 1.x API)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    accepted = {"row_condition": "_accepted == True", "condition_parser": "pandas"}
    suite = gx.ExpectationSuite(name=f"raw_{table}")

    def add(expectation, severity: str, field: str | None, description: str) -> None:
        expectation.meta = {"severity": severity, "field": field, "description": description}
        suite.add_expectation(expectation)

    tolerance = QUARANTINE_TOLERANCE[table]
    add(
        gxe.ExpectColumnValuesToBeInSet(column="_accepted", value_set=[True], mostly=1.0 - tolerance),
        CRITICAL,
        None,
        f"rows quarantined by the row rules: more than {tolerance:.0%} of the file means a broken export",
    )
    key = _KEYS.get(table)
    if key:
        add(gxe.ExpectColumnValuesToNotBeNull(column=key, **accepted), CRITICAL, key, f"{key} is present")
        add(gxe.ExpectColumnValuesToBeUnique(column=key, **accepted), CRITICAL, key, f"{key} is unique")

    def between(column, low, high, severity, description, mostly=1.0):
        add(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, mostly=mostly, **accepted),
            severity,
            column,
            description,
        )

    def in_set(column, values, severity, description):
        add(
            gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values), **accepted),
            severity,
            column,
            description,
        )

    def area(severity, mostly=1.0):
        if ctx.area:
            min_lat, max_lat, min_lon, max_lon = ctx.area
            between("lat", min_lat, max_lat, severity, "lat inside the service area", mostly)
            between("lon", min_lon, max_lon, severity, "lon inside the service area", mostly)

    day_start = pd.Timestamp(ctx.service_date, tz="UTC") - pd.Timedelta(hours=2)
    day_end = pd.Timestamp(ctx.service_date, tz="UTC") + pd.Timedelta(hours=30)

    if table in ("depots", "vehicle_types", "vehicles"):
        add(gxe.ExpectTableRowCountToBeBetween(min_value=1), CRITICAL, None, f"{table}.csv lists at least one row")
    if table == "depots":
        between("lat", -90, 90, CRITICAL, "lat is a latitude")
        between("lon", -180, 180, CRITICAL, "lon is a longitude")
    elif table == "vehicle_types":
        for column in ("capacity_kg", "capacity_l", "avg_speed_kmh"):
            between(column, 1e-9, None, CRITICAL, f"{column} is above 0")
        between("avg_speed_kmh", None, 130, WARNING, "avg_speed_kmh is a plausible road speed")
        # Optional constraint columns (empty = default): the values the solver takes, when given.
        between("capacity_parcels", 1, None, CRITICAL, "capacity_parcels is at least 1")
        for column in ("max_reloads", "max_overtime_min", "overtime_cost_per_hour_eur", "break_min"):
            between(column, 0, None, CRITICAL, f"{column} is not negative")
        between("break_after_h", 0, 24, CRITICAL, "break_after_h is within a day")
        between("max_route_hours", 1e-9, 24, CRITICAL, "max_route_hours is above 0 and within a day")
        between("max_route_km", 1e-9, None, CRITICAL, "max_route_km is above 0")
    elif table == "vehicles":
        in_set("depot_id", ctx.depot_ids, CRITICAL, "depot_id is a depot of depots.csv")
        in_set("start_depot_id", ctx.depot_ids, CRITICAL, "start_depot_id is empty or a depot of depots.csv")
        in_set("end_depot_id", ctx.depot_ids, CRITICAL, "end_depot_id is empty or a depot of depots.csv")
        in_set("vehicle_type", ctx.vehicle_types, CRITICAL, "vehicle_type is a type of vehicle_types.csv")
    elif table == "orders":
        add(gxe.ExpectTableRowCountToBeBetween(min_value=1), WARNING, None, "the date has orders")
        in_set("service_date_value", [ctx.service_date], CRITICAL, "service_date is the file's date")
        in_set("order_type", ("delivery", "pickup"), CRITICAL, "order_type is delivery or pickup")
        add(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="window2_start", column_B="window_end", or_equal=True,
                ignore_row_if="either_value_is_missing", **accepted,
            ),
            CRITICAL,
            "window2_start",
            "the second window starts after the first one ends",
        )  # fmt: skip
        between("unserved_penalty_eur", 0, None, CRITICAL, "unserved_penalty_eur is not negative")
        between("weight_kg", 1e-9, None, CRITICAL, "weight_kg is above 0")
        between("volume_l", 1e-9, None, CRITICAL, "volume_l is above 0")
        if ctx.max_capacity_kg:
            between("weight_kg", None, ctx.max_capacity_kg, WARNING, "weight_kg fits the largest vehicle")
        if ctx.max_capacity_l:
            between("volume_l", None, ctx.max_capacity_l, WARNING, "volume_l fits the largest vehicle")
        area(WARNING)
        add(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="window_end", column_B="window_start", ignore_row_if="either_value_is_missing", **accepted
            ),
            CRITICAL,
            "window_end",
            "window_end is after window_start",
        )
        between("created_at_utc", None, day_end, WARNING, "created_at_utc is not after the service date")
    elif table == "stop_events":
        in_set("order_id", ctx.order_ids, CRITICAL, "order_id is an order of the date (empty for depot events)")
        in_set("vehicle_id", ctx.vehicle_ids, CRITICAL, "vehicle_id is a vehicle of the date's fleet")
        between("ts_utc", day_start, day_end, WARNING, "ts_utc is on the service date")
        area(WARNING, mostly=0.99)
    elif table == "ratings":
        between("rating", 1, 5, CRITICAL, "rating is 1..5")
        in_set("order_id", ctx.order_ids, CRITICAL, "order_id is an order of the date")
    elif table == "weather_observations":
        add(gxe.ExpectTableRowCountToBeBetween(min_value=20, max_value=26), WARNING, None, "about 24 hourly rows")
        between("temperature_c", -45, 45, WARNING, "temperature_c is plausible for the region")
        between("precipitation_mm", 0, 100, WARNING, "precipitation_mm per hour is plausible")
        between("observed_at_utc", day_start, day_end, CRITICAL, "observed_at_utc is on the service date")
    elif table == "weather_forecasts":
        add(gxe.ExpectTableRowCountToBeBetween(min_value=1), WARNING, None, "a forecast is present")
        between("precipitation_probability", 0, 1, CRITICAL, "precipitation_probability is 0..1")
        between("temperature_c", -45, 45, WARNING, "temperature_c is plausible for the region")
    elif table == "pings":
        add(gxe.ExpectTableRowCountToBeBetween(min_value=1), WARNING, None, "the fleet sent fixes")
        in_set("vehicle_id", ctx.vehicle_ids, CRITICAL, "vehicle_id is a vehicle of the date's fleet")
        between("ts_utc", day_start, day_end, CRITICAL, "ts_utc is on the service date")
        between("speed_kmh", 0, 160, WARNING, "speed_kmh is a plausible road speed", mostly=0.999)
        area(WARNING, mostly=0.99)
    return suite


def _example(row: dict, field: str | None) -> str:
    source = row.get("_source_file") or "?"
    line = row.get("_source_row")
    where = f"{source} line {int(line) + 1}" if line is not None and not pd.isna(line) else source
    if row.get("_reason"):
        return f"{where}: {row['_reason']}"
    values = [f"{k}={_show(v)}" for k, v in row.items() if not k.startswith("_")]
    return f"{where}: {', '.join(values)}" if values else where


def _show(value) -> str:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _gx_context(gx_dir: Path | None):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    if gx_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        gx_dir.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate_frame(table: str, frame: pd.DataFrame, ctx: PartitionContext, gx_dir: Path | None = None) -> CheckOutcome:
    """Run the source's suite on a partition frame; with ``gx_dir``, store the result and update Data Docs.

    Parameters
    ----------
    table
        Landing source (a key of :data:`QUARANTINE_TOLERANCE`).
    frame
        :func:`partition_frame` of the date.
    ctx
        :func:`partition_context` of the date.
    gx_dir
        Great Expectations project folder (file context) for stored results and the Data Docs site; ``None``
        validates in memory only.
    """
    context = _gx_context(gx_dir)
    outcome, result_id = _run_suite(context, table, frame, ctx, gx_dir)
    if result_id is not None:
        _build_docs(context, [result_id])
    return outcome


def _run_suite(context, table: str, frame: pd.DataFrame, ctx: PartitionContext, gx_dir: Path | None):
    """The outcome, and the stored result's identifier when ``gx_dir`` is given (Data Docs not yet updated)."""
    import great_expectations as gx

    source = context.data_sources.add_or_update_pandas("lastmile_raw")
    asset = source.add_dataframe_asset(table)
    batch_definition = asset.add_batch_definition_whole_dataframe("partition")
    suite = context.suites.add_or_update(build_suite(table, ctx))
    result_format = {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": ["_source_file", "_source_row", "_reason"],
    }
    docs, result_id = None, None
    if gx_dir is None:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        results = batch.validate(suite, result_format=result_format).results
    else:
        prune_stored_results(gx_dir, suite.name, f"{table} {ctx.service_date}")
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"raw_{table}", data=batch_definition, suite=suite)
        )
        # The run stores its result; Data Docs are updated by the caller, once for all checks of a step.
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"raw_{table}", validation_definitions=[definition], actions=[], result_format=result_format
            )
        )
        run = checkpoint.run(
            batch_parameters={"dataframe": frame},
            run_id=gx.RunIdentifier(run_name=f"{table} {ctx.service_date}", run_time=datetime.now(UTC)),
        )
        ((result_id, validation),) = run.run_results.items()
        results = validation.results
        docs = str(data_docs_index(gx_dir))
    findings = []
    for result in results:
        if result.success:
            continue
        meta = result.expectation_config.meta or {}
        details = result.result or {}
        rows = details.get("unexpected_index_list") or []
        field = meta.get("field")
        findings.append(
            Finding(
                expectation=result.expectation_config.type,
                field=field,
                severity=meta.get("severity", CRITICAL),
                description=meta.get("description", result.expectation_config.type),
                unexpected_count=int(details.get("unexpected_count") or 0),
                element_count=int(details.get("element_count") or 0),
                examples=tuple(_example(row, field) for row in rows[:3]),
            )
        )
    return CheckOutcome(table, ctx.service_date, len(results), tuple(findings), docs), result_id


def _build_docs(context, result_ids: list) -> None:
    """Render the new validation results (and their suites) and the index page: an incremental Data Docs build."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    suites = {ExpectationSuiteIdentifier(name=r.expectation_suite_identifier.name) for r in result_ids}
    context.build_data_docs(resource_identifiers=[*result_ids, *suites])


def data_docs_index(gx_dir: Path) -> Path:
    """The Data Docs site's index page of the Great Expectations project in ``gx_dir``."""
    return gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def prune_stored_results(gx_dir: Path, suite_name: str, run_name: str, keep_dates: int = KEEP_DATES) -> None:
    """Drop stored results (and their Data Docs pages) that a new run supersedes or that fell out of the window.

    A re-run of a date replaces that date's result, and only the newest ``keep_dates`` dates of each suite are
    kept, so the Data Docs site and the time to rebuild its index stay bounded however long the history.
    """
    uncommitted = gx_dir / "gx" / "uncommitted"
    for root in (
        uncommitted / "validations" / suite_name,
        uncommitted / "data_docs" / "local_site" / "validations" / suite_name,
    ):
        if not root.is_dir():
            continue
        runs = sorted(p for p in root.iterdir() if p.is_dir())
        stale = [p for p in runs if p.name == run_name]
        kept = [p for p in runs if p.name != run_name]
        stale += kept[: max(len(kept) - (keep_dates - 1), 0)]  # run names end with the date: sorted = by date
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)


CHECKS_DDL = (
    "create table if not exists quality.data_checks (check_name varchar, table_name varchar, service_date date, "
    "severity varchar, passed boolean, failed_expectations integer, evaluated_expectations integer, "
    "message varchar, data_docs_path varchar, checked_at_utc timestamptz)"
)


def record_outcome(conn: duckdb.DuckDBPyConnection, outcome: CheckOutcome) -> None:
    """Replace the stored outcome of this check, table and date in ``quality.data_checks``."""
    conn.execute("create schema if not exists quality")
    conn.execute(CHECKS_DDL)
    conn.execute("begin transaction")
    try:
        conn.execute(
            "delete from quality.data_checks where check_name = ? and table_name = ? and service_date = ?",
            [CHECK_NAME, outcome.table, outcome.service_date],
        )
        conn.execute(
            "insert into quality.data_checks values (?, ?, cast(? as date), ?, ?, ?, ?, ?, ?, ?)",
            [
                CHECK_NAME,
                outcome.table,
                outcome.service_date,
                outcome.severity,
                outcome.passed,
                len(outcome.findings),
                outcome.evaluated,
                outcome.message(),
                outcome.data_docs_path,
                datetime.now(UTC),
            ],
        )
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def check_partitions(
    conn: duckdb.DuckDBPyConnection, items: list[tuple[str, str]], gx_dir: Path | None = None
) -> list[CheckOutcome]:
    """Validate several (source, service date) partitions with their suites, record each outcome, and update the
    Data Docs site once (the raw assets' asset checks; one GX context for the step)."""
    context = _gx_context(gx_dir)
    contexts: dict[str, PartitionContext] = {}
    outcomes, result_ids = [], []
    for table, service_date in items:
        if service_date not in contexts:
            contexts[service_date] = partition_context(conn, service_date)
        frame = partition_frame(conn, table, service_date)
        outcome, result_id = _run_suite(context, table, frame, contexts[service_date], gx_dir)
        outcomes.append(outcome)
        if result_id is not None:
            result_ids.append(result_id)
    if result_ids:
        _build_docs(context, result_ids)
    for outcome in outcomes:
        record_outcome(conn, outcome)
    return outcomes


def check_partition(
    conn: duckdb.DuckDBPyConnection, table: str, service_date: str, gx_dir: Path | None = None
) -> CheckOutcome:
    """Validate one source's partition with its suite and record the outcome."""
    (outcome,) = check_partitions(conn, [(table, service_date)], gx_dir)
    return outcome
