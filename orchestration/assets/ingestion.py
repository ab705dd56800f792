"""Ingestion: landing files -> ``raw.*`` (accepted rows) and ``quarantine.*`` (rejected rows with a reason), one
service-date partition per run, each raw asset guarded by a blocking Great Expectations check."""

import datetime as dt
import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.landing import LandingFileError, LoadResult, load_partition, load_pings
from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.quality.expectations import CHECK_NAME, CheckOutcome, check_partitions, data_docs_index
from orchestration.resources import DataDocsSite, LandingZone

MASTER_TABLES = ("depots", "vehicle_types", "vehicles")
EXECUTION_TABLES = ("stop_events", "ratings", "weather_observations", "weather_forecasts")
CHECK_DESCRIPTION = (
    "Great Expectations suite on the partition as loaded: quarantine share within tolerance, ids unique, values "
    "in range, references resolve, positions in the service area. A critical failure blocks what is downstream."
)


def _check_spec(table: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(CHECK_NAME, asset=["raw", table], blocking=True, description=CHECK_DESCRIPTION)


def _load(context, duckdb: DuckDBResource, landing: LandingZone, files: dict) -> list[LoadResult]:
    started = time.perf_counter()
    try:
        with duckdb.get_connection() as conn:
            results = load_partition(conn, files, context.partition_key, landing.path)
    except LandingFileError as error:
        raise dg.Failure(description=str(error)) from error
    for result in results:
        _log_result(context, result)
    context.log.info(f"loaded {len(results)} file(s) in {time.perf_counter() - started:.2f} s")
    return results


def _log_result(context, result: LoadResult) -> None:
    reasons = ", ".join(f"{code} {n}" for code, n in result.quarantine_reasons.items())
    message = (
        f"raw.{result.table} {result.service_date}: {result.loaded_rows} loaded = {result.rows} accepted + "
        f"{result.quarantined_rows} quarantined{f' ({reasons})' if reasons else ''} from {result.source_file} "
        f"(replaced {result.replaced_rows})"
    )
    if result.quarantined_rows:
        context.log.warning(message)
    else:
        context.log.info(message)
    if result.ignored_columns:
        context.log.warning(f"{result.source_file}: ignored column(s) not in the contract: {result.ignored_columns}")


def _docs_url(data_docs: DataDocsSite) -> dg.MetadataValue:
    return dg.MetadataValue.url(f"file://{data_docs_index(data_docs.gx_dir)}")


def _metadata(result: LoadResult, data_docs: DataDocsSite) -> dict:
    return {
        "data_docs": _docs_url(data_docs),
        "dagster/row_count": dg.MetadataValue.int(result.rows),
        "loaded_rows": dg.MetadataValue.int(result.loaded_rows),
        "accepted_rows": dg.MetadataValue.int(result.rows),
        "quarantined_rows": dg.MetadataValue.int(result.quarantined_rows),
        "quarantine_reasons": dg.MetadataValue.json(result.quarantine_reasons),
        "quarantine_table": f"quarantine.{result.table}",
        "source_file": dg.MetadataValue.path(result.source_file),
        "sha256": result.sha256,
        "replaced_rows": dg.MetadataValue.int(result.replaced_rows),
    }


def _check_result(context, outcomes: list[CheckOutcome]) -> dg.AssetCheckResult:
    """One Dagster check result from the suite outcomes of one table (one per date of the run)."""
    table = outcomes[0].table
    blocking = any(o.blocking for o in outcomes)
    message = "\n".join(o.message() for o in outcomes)
    if blocking:
        context.log.error(f"data check on raw.{table} failed, downstream assets are blocked:\n{message}")
    elif not all(o.passed for o in outcomes):
        context.log.warning(message)
    docs = next((o.data_docs_path for o in outcomes if o.data_docs_path), None)
    metadata = {
        "message": dg.MetadataValue.md(message.replace("\n", "\n\n")),
        "failed_expectations": sum(len(o.findings) for o in outcomes),
        "evaluated_expectations": sum(o.evaluated for o in outcomes),
    }
    if docs:
        metadata["data_docs"] = dg.MetadataValue.url(f"file://{docs}")
    return dg.AssetCheckResult(
        asset_key=["raw", table],
        check_name=CHECK_NAME,
        passed=all(o.passed for o in outcomes),
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _checks(context, duckdb: DuckDBResource, data_docs: DataDocsSite, tables, dates) -> list[dg.AssetCheckResult]:
    started = time.perf_counter()
    with duckdb.get_connection() as conn:
        outcomes = check_partitions(conn, [(t, d) for t in tables for d in dates], data_docs.gx_dir)
    results = [_check_result(context, [o for o in outcomes if o.table == t]) for t in tables]
    context.log.info(f"data checks on {len(results)} table(s) in {time.perf_counter() - started:.2f} s")
    return results


def _load_and_check(context, duckdb: DuckDBResource, landing: LandingZone, data_docs: DataDocsSite, files: dict):
    """Load a partition's CSV files, run their data checks, then report each table's materialisation (with the
    Data Docs link the checks just updated) and the check results."""
    results = _load(context, duckdb, landing, files)
    checks = _checks(context, duckdb, data_docs, list(files), [context.partition_key])
    for result in results:
        yield dg.MaterializeResult(asset_key=["raw", result.table], metadata=_metadata(result, data_docs))
    yield from checks


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            description=f"master/{table}.csv as loaded (accepted rows, all text), snapshotted per service date.",
            group_name="ingestion",
            kinds={"duckdb"},
            deps=["landing_master_data"],
        )
        for table in MASTER_TABLES
    ],
    check_specs=[_check_spec(table) for table in MASTER_TABLES],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def raw_master_data(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone, data_docs: DataDocsSite
):
    """Fleet master data (depots, vehicle types, vehicles) as of the service date, replaced atomically; rows that
    break a rule go to quarantine.<table>."""
    yield from _load_and_check(
        context, duckdb, landing, data_docs, {table: landing.master_file(table) for table in MASTER_TABLES}
    )


@dg.asset(
    key=["raw", "orders"],
    group_name="ingestion",
    kinds={"duckdb"},
    deps=["landing_orders", ["raw", "vehicle_types"]],
    check_specs=[_check_spec("orders")],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def raw_orders(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone, data_docs: DataDocsSite
):
    """The order export of the service date (orders/orders_YYYY-MM-DD.csv) as loaded; a re-run replaces the date.
    Orders that break a rule go to quarantine.orders with a reason code; the check compares against the fleet."""
    yield from _load_and_check(
        context, duckdb, landing, data_docs, {"orders": landing.orders_file(context.partition_key)}
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            description=f"{table} of the service date as loaded (accepted rows, all text); replaced atomically.",
            group_name="ingestion",
            kinds={"duckdb"},
            # Events and ratings refer to the date's orders and fleet: those load first.
            deps=["landing_execution", ["raw", "orders"], ["raw", "vehicles"]],
        )
        for table in EXECUTION_TABLES
    ],
    check_specs=[_check_spec(table) for table in EXECUTION_TABLES],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def raw_execution_records(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone, data_docs: DataDocsSite
):
    """What happened on the day: driver-app stop events, customer ratings, hourly weather and the next day's
    forecast, loaded together in one transaction; events of unknown orders or vehicles are quarantined."""
    yield from _load_and_check(context, duckdb, landing, data_docs, landing.execution_files(context.partition_key))


@dg.asset(
    key=["raw", "pings"],
    group_name="ingestion",
    kinds={"duckdb", "parquet"},
    deps=["landing_execution", ["raw", "vehicles"]],
    check_specs=[_check_spec("pings")],
    partitions_def=service_date_partitions,
    # A backfill loads its whole range in one statement: telematics are the high-volume source.
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
)
def raw_pings(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone, data_docs: DataDocsSite):
    """Telematics fixes (telematics/pings_YYYY-MM-DD.parquet) through DuckDB's Parquet reader, typed; a run
    replaces its dates in one transaction. Fixes without a position, off the day or of unknown vehicles are
    quarantined; GPS noise is kept for cleaning in dbt."""
    window = context.partition_time_window
    dates = []
    day = window.start.date()
    while day < window.end.date():
        dates.append(day.isoformat())
        day += dt.timedelta(days=1)
    started = time.perf_counter()
    try:
        with duckdb.get_connection() as conn:
            results = load_pings(conn, {d: landing.pings_file(d) for d in dates}, landing.path)
    except LandingFileError as error:
        raise dg.Failure(description=str(error)) from error
    seconds = time.perf_counter() - started
    for result in results:
        _log_result(context, result)
    rows = sum(r.rows for r in results)
    context.log.info(f"raw.pings {dates[0]}..{dates[-1]}: {rows} fixes in {seconds:.2f} s")
    checks = _checks(context, duckdb, data_docs, ["pings"], dates)
    yield dg.MaterializeResult(
        metadata={
            "data_docs": _docs_url(data_docs),
            "dagster/row_count": dg.MetadataValue.int(rows),
            "loaded_rows": dg.MetadataValue.int(sum(r.loaded_rows for r in results)),
            "accepted_rows": dg.MetadataValue.int(rows),
            "quarantined_rows": dg.MetadataValue.int(sum(r.quarantined_rows for r in results)),
            "dates": len(results),
            "source_files": [r.source_file for r in results],
            "replaced_rows": sum(r.replaced_rows for r in results),
            "rows_per_s": round(rows / seconds) if seconds else None,
        }
    )
    yield from checks
