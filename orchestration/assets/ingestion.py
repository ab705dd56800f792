"""Ingestion: landing files -> ``raw.*`` in the warehouse, one service-date partition per run."""

import datetime as dt
import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.landing import LandingFileError, LoadResult, load_partition, load_pings
from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.resources import LandingZone

MASTER_TABLES = ("depots", "vehicle_types", "vehicles")
EXECUTION_TABLES = ("stop_events", "ratings", "weather_observations", "weather_forecasts")


def _load(context, duckdb: DuckDBResource, landing: LandingZone, files: dict) -> list[LoadResult]:
    started = time.perf_counter()
    try:
        with duckdb.get_connection() as conn:
            results = load_partition(conn, files, context.partition_key, landing.path)
    except LandingFileError as error:
        raise dg.Failure(description=str(error)) from error
    for result in results:
        context.log.info(
            f"raw.{result.table} {result.service_date}: {result.rows} rows from {result.source_file} "
            f"(replaced {result.replaced_rows})"
        )
    context.log.info(f"loaded {len(results)} file(s) in {time.perf_counter() - started:.2f} s")
    return results


def _metadata(result: LoadResult) -> dict:
    return {
        "dagster/row_count": dg.MetadataValue.int(result.rows),
        "source_file": dg.MetadataValue.path(result.source_file),
        "sha256": result.sha256,
        "replaced_rows": dg.MetadataValue.int(result.replaced_rows),
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            description=f"master/{table}.csv as loaded (all text), snapshotted per service date.",
            group_name="ingestion",
            kinds={"duckdb"},
            deps=["landing_master_data"],
        )
        for table in MASTER_TABLES
    ],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def raw_master_data(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone):
    """Fleet master data (depots, vehicle types, vehicles) as of the service date, replaced atomically."""
    files = {table: landing.master_file(table) for table in MASTER_TABLES}
    for result in _load(context, duckdb, landing, files):
        yield dg.MaterializeResult(asset_key=["raw", result.table], metadata=_metadata(result))


@dg.asset(
    key=["raw", "orders"],
    group_name="ingestion",
    kinds={"duckdb"},
    deps=["landing_orders"],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def raw_orders(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone):
    """The order export of the service date (orders/orders_YYYY-MM-DD.csv) as loaded; a re-run replaces the date."""
    (result,) = _load(context, duckdb, landing, {"orders": landing.orders_file(context.partition_key)})
    return dg.MaterializeResult(metadata=_metadata(result))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            description=f"{table} of the service date as loaded (all text); replaced atomically per date.",
            group_name="ingestion",
            kinds={"duckdb"},
            deps=["landing_execution"],
        )
        for table in EXECUTION_TABLES
    ],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def raw_execution_records(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone):
    """What happened on the day: driver-app stop events, customer ratings, hourly weather and the next day's
    forecast, loaded together in one transaction."""
    for result in _load(context, duckdb, landing, landing.execution_files(context.partition_key)):
        yield dg.MaterializeResult(asset_key=["raw", result.table], metadata=_metadata(result))


@dg.asset(
    key=["raw", "pings"],
    group_name="ingestion",
    kinds={"duckdb", "parquet"},
    deps=["landing_execution"],
    partitions_def=service_date_partitions,
    # A backfill loads its whole range in one statement: telematics are the high-volume source.
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
)
def raw_pings(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone):
    """Telematics fixes (telematics/pings_YYYY-MM-DD.parquet) through DuckDB's Parquet reader, typed; a run
    replaces its dates in one transaction."""
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
    rows = sum(r.rows for r in results)
    context.log.info(f"raw.pings {dates[0]}..{dates[-1]}: {rows} fixes in {seconds:.2f} s")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(rows),
            "dates": len(results),
            "source_files": [r.source_file for r in results],
            "replaced_rows": sum(r.replaced_rows for r in results),
            "rows_per_s": round(rows / seconds) if seconds else None,
        }
    )
