"""Serving: publish the snapshot the dashboard reads."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.resources import ServingStore
from orchestration.serving import publish_snapshot
from orchestration.tracking import ensure_tracking_tokens


@dg.asset(
    group_name="serving",
    kinds={"parquet"},
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    deps=[
        dg.AssetKey(["marts", "dim_depots"]),
        dg.AssetKey(["marts", "dim_plan_versions"]),
        dg.AssetKey(["marts", "fct_planned_routes"]),
        dg.AssetKey(["marts", "fct_planned_stops"]),
        dg.AssetKey(["marts", "fct_plan_unassigned"]),
        dg.AssetKey(["marts", "fct_plan_kpis"]),
        dg.AssetKey(["marts", "fct_deliveries"]),
        dg.AssetKey(["marts", "fct_route_days"]),
        dg.AssetKey(["marts", "fct_delivery_kpis"]),
        dg.AssetKey(["marts", "fct_driven_paths"]),
    ],
    pool="warehouse",
)
def serving_snapshot(context: dg.AssetExecutionContext, duckdb: DuckDBResource, serving: ServingStore):
    """A complete, consistent Parquet snapshot of the plan marts and, where execution data exists, the actuals
    (deliveries, route days, KPIs, driven paths), all dates, published by an atomic swap of `CURRENT`. The
    dashboard reads only this. Every order of a current plan gets its customer tracking token first (created once,
    never changed), so the snapshot's `tracking` table covers them all."""
    with duckdb.get_connection() as conn:
        # Closed here even when publishing fails (the resource closes it only on success), so a failed dashboard
        # refresh after a re-plan leaves no connection open in a long-lived process.
        try:
            tokens_created = ensure_tracking_tokens(conn)
            published = publish_snapshot(conn, serving.path)
        finally:
            conn.close()
    context.log.info(f"published snapshot {published.snapshot_id}: {published.row_counts}")
    return dg.MaterializeResult(
        metadata={
            "snapshot_id": published.snapshot_id,
            "path": dg.MetadataValue.path(str(published.path)),
            "service_dates": len(published.service_dates),
            "tracking_tokens_created": tokens_created,
            "latest_service_date": published.service_dates[-1] if published.service_dates else None,
            **{f"rows_{name}": dg.MetadataValue.int(n) for name, n in published.row_counts.items()},
        }
    )
