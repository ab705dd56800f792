"""Re-planning during the day (issue 7): the live drops into ``raw.live_*``, and the live state of a date.

`raw_live` loads every drop of the date present under ``landing/live/YYYY-MM-DD/`` (bad rows to quarantine with
a reason code, as the daily files); the dbt live models (`dbt_live`, tag `live`) turn them into the live views;
`live_state` puts them next to the date's current plan: per vehicle its position, committed stop and load, per
remaining stop its re-timed ETA and whether it is at risk (``plans.live_vehicles``, ``plans.live_stops``).
"""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.assets.replanning import ReplanRunConfig, warm_replan_pool
from orchestration.landing import LandingFileError, live_drop_files, load_live_drops
from orchestration.live_state import compute_live_state, parse_as_of, write_live_state
from orchestration.partitions import one_run_per_date, service_date_partitions
from orchestration.resources import LandingZone

REPLAN_JOB = "replan"
LIVE_RAW_TABLES = ("live_pings", "live_events", "order_changes", "live_weather")
LIVE_STATE_TABLES = ("live_vehicles", "live_stops")
LIVE_MODELS = ("int_live_orders", "int_live_pings", "int_live_stop_status", "int_live_vehicles")


@dg.multi_asset(
    name="raw_live",
    specs=[
        dg.AssetSpec(
            ["raw", table],
            description=f"raw.{table}: the date's live drops as loaded, with _source_file and _source_row.",
            group_name="replanning",
            kinds={"duckdb"},
            # Events and changes refer to the date's orders and fleet: those load first.
            deps=[["raw", "orders"], ["raw", "vehicles"]],
        )
        for table in LIVE_RAW_TABLES
    ],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def raw_live(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingZone):
    """Every live drop of the service date (landing/live/YYYY-MM-DD/: pings_HHMMSS.parquet, events_HHMMSS.csv,
    order_changes_HHMMSS.csv, weather_HHMMSS.csv) into raw.live_pings, raw.live_events, raw.order_changes and
    raw.live_weather, replacing the date's
    rows in one transaction; bad rows go to quarantine.<table> with a reason code (loaded = accepted +
    quarantined). A date without drops gets empty tables."""
    service_date = context.partition_key
    if context.run.job_name == REPLAN_JOB:
        # The re-plan's solve workers start now and import while the drops load (a warm pool, reused).
        warm_replan_pool(_replan_processes(context.run.run_config))
    files = live_drop_files(landing.path, service_date)
    started = time.perf_counter()
    try:
        with duckdb.get_connection() as conn:
            results = load_live_drops(conn, files, service_date, landing.path)
    except LandingFileError as error:
        raise dg.Failure(description=str(error)) from error
    for result in results:
        reasons = ", ".join(f"{code} {n}" for code, n in result.quarantine_reasons.items())
        message = (
            f"raw.{result.table} {service_date}: {result.loaded_rows} loaded = {result.rows} accepted + "
            f"{result.quarantined_rows} quarantined{f' ({reasons})' if reasons else ''} from {result.source_file}"
        )
        (context.log.warning if result.quarantined_rows else context.log.info)(message)
    context.log.info(
        f"live drops of {service_date}: {sum(len(f) for f in files.values())} file(s) in "
        f"{time.perf_counter() - started:.2f} s"
    )
    by_table = {r.table: r for r in results}
    for table in LIVE_RAW_TABLES:
        result = by_table.get(table)
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "drop_files": dg.MetadataValue.int(len(files[table])),
                "dagster/row_count": dg.MetadataValue.int(result.rows if result else 0),
                "loaded_rows": dg.MetadataValue.int(result.loaded_rows if result else 0),
                "accepted_rows": dg.MetadataValue.int(result.rows if result else 0),
                "quarantined_rows": dg.MetadataValue.int(result.quarantined_rows if result else 0),
                "quarantine_reasons": dg.MetadataValue.json(result.quarantine_reasons if result else {}),
                "quarantine_table": f"quarantine.{table}",
            },
        )


def _replan_processes(run_config: dict) -> int:
    """``processes`` of the run's `replan_plan` config (its default when not given)."""
    config = (run_config.get("ops") or {}).get("replan_plan", {}).get("config") or {}
    return int(config.get("processes") or ReplanRunConfig().processes)


class LiveStateConfig(dg.Config):
    """Run configuration of the live state."""

    as_of: str | None = None
    """Local time of day the state is taken at, HH:MM or HH:MM:SS; later fixes, events and changes are ignored.
    Default: the newest fix, event or order change of the date."""


@dg.multi_asset(
    name="live_state",
    specs=[
        dg.AssetSpec(
            ["plans", table],
            description=f"plans.{table}: the date's live state (one as_of per date; a new state replaces it).",
            group_name="replanning",
            kinds={"duckdb"},
            deps=[
                *(dg.AssetKey(["intermediate", model]) for model in LIVE_MODELS),
                dg.AssetKey(["plans", "plan_runs"]),
            ],
        )
        for table in LIVE_STATE_TABLES
    ],
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    pool="warehouse",
)
def live_state(context: dg.AssetExecutionContext, config: LiveStateConfig, duckdb: DuckDBResource):
    """Where the day stands at `as_of` against the date's current plan: each vehicle's position, status, committed
    stop and load; each stop delivered, failed, committed, planned, unassigned or cancelled, with its ETA re-timed
    from where its vehicle is (the plan's travel model), its lateness and whether it is at risk, and what changed
    against the previous plan version. Feeds the delay sensor and the app."""
    service_date = context.partition_key
    try:
        as_of_s = parse_as_of(config.as_of) if config.as_of else None
    except ValueError as error:
        raise dg.Failure(description=str(error)) from error
    started = time.perf_counter()
    with duckdb.get_connection() as conn:
        tables = compute_live_state(conn, service_date, as_of_s)
        write_live_state(conn, tables)
    seconds = time.perf_counter() - started
    vehicles, stops = tables.vehicles, tables.stops
    at_risk = int(stops.at_risk.fillna(False).astype(bool).sum()) if len(stops) else 0
    as_of = f"{tables.as_of_s // 3600:02d}:{tables.as_of_s % 3600 // 60:02d}:{tables.as_of_s % 60:02d}"
    context.log.info(
        f"live state of {service_date} at {as_of} against plan {tables.plan_id}: {len(vehicles)} vehicles, "
        f"{len(stops)} stops, {at_risk} at risk ({seconds:.2f} s)"
    )
    statuses = vehicles.status.value_counts().to_dict() if len(vehicles) else {}
    yield dg.MaterializeResult(
        asset_key=["plans", "live_vehicles"],
        metadata={
            "as_of": as_of,
            "as_of_s": tables.as_of_s,
            "plan_id": tables.plan_id or "none",
            "dagster/row_count": dg.MetadataValue.int(len(vehicles)),
            "statuses": dg.MetadataValue.json({str(k): int(v) for k, v in statuses.items()}),
            "late_s_total": int(vehicles.late_s_total.sum()) if len(vehicles) else 0,
            "seconds": round(seconds, 2),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["plans", "live_stops"],
        metadata={
            "as_of": as_of,
            "plan_id": tables.plan_id or "none",
            "dagster/row_count": dg.MetadataValue.int(len(stops)),
            "at_risk": at_risk,
        },
    )
