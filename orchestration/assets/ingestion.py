"""Ingestion: landing files -> ``raw.*`` in the warehouse, one service-date partition per run."""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.landing import LandingFileError, LoadResult, load_partition
from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.resources import LandingZone

MASTER_TABLES = ("depots", "vehicle_types", "vehicles")


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
