"""Learned models as assets: travel time, service time and customer availability, one version per service date.

Partition D fits each model on the learning marts of the :data:`~orchestration.learning.TRAINING_DAYS` days up to
and including D and stores it as version ``<model>@D`` in ``models.*``. The plan of a later date uses the newest
version trained on days before it (the planning step reads it; the plan records which). A backfill over a range of
dates rebuilds the versions in date order; re-running a date replaces its version.
"""

import datetime as dt
import hashlib

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.learning import TRAINING_DAYS, factor_lookup, fit_availability, fit_service_time, fit_travel_time
from orchestration.model_store import read_version_table, version_id, write_version
from orchestration.partitions import one_run_per_date, service_date_partitions

TRAVEL_OBSERVATIONS = dg.AssetKey(["marts", "fct_travel_observations"])
STOP_ATTEMPTS = dg.AssetKey(["marts", "fct_stop_attempts"])
TRAVEL_MODEL = dg.AssetKey(["models", "travel_time"])
SERVICE_MODEL = dg.AssetKey(["models", "service_time"])
AVAILABILITY_MODEL = dg.AssetKey(["models", "availability"])


def _window(service_date: str) -> tuple[str, str]:
    through = dt.date.fromisoformat(service_date)
    return (through - dt.timedelta(days=TRAINING_DAYS - 1)).isoformat(), through.isoformat()


def _read(conn, table: str, service_date: str) -> pd.DataFrame:
    first, last = _window(service_date)
    return conn.execute(
        # Sorted: DuckDB's parallel scan returns rows in any order, and float sums depend on the order, so an
        # unsorted read gave a re-run factors that differed in the last digit.
        f"select * from marts.{table} where service_date between cast(? as date) and cast(? as date) "  # fixed name
        "order by all",
        [first, last],
    ).fetchdf()


def _metadata(version: str, first: str, fit, extra: dict) -> dict:
    improvement = None
    if fit.fit_error is not None and fit.baseline_error:
        improvement = round(1 - fit.fit_error / fit.baseline_error, 3)
    return {
        "version": version,
        "trained_from": first,
        "dagster/row_count": int(sum(len(t) for t in fit.tables.values())),
        "samples": fit.n_samples,
        "fit_error": None if fit.fit_error is None else round(fit.fit_error, 4),
        "baseline_error": None if fit.baseline_error is None else round(fit.baseline_error, 4),
        "error_reduction": improvement,
        "error_metric": fit.error_metric,
        **extra,
    }


def _data_version(fit) -> dg.DataVersion:
    """A digest of the fitted tables: Dagster shows a new data version only when the model really changed."""
    digest = hashlib.sha256()
    for name in sorted(fit.tables):
        digest.update(name.encode())
        digest.update(fit.tables[name].round(6).to_csv(index=False).encode())
    return dg.DataVersion(digest.hexdigest()[:16])


def _no_history(context: dg.AssetExecutionContext, what: str) -> dg.MaterializeResult:
    context.log.warning(f"no {what} up to {context.partition_key}: no version stored, plans keep the priors")
    return dg.MaterializeResult(metadata={"version": None, "samples": 0})


_COMMON = {
    "group_name": "learning",
    "kinds": {"python", "duckdb"},
    "partitions_def": service_date_partitions,
    "backfill_policy": one_run_per_date,
    "pool": "warehouse",
}


@dg.asset(key=TRAVEL_MODEL, deps=[TRAVEL_OBSERVATIONS], **_COMMON)
def travel_time_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Speed by hour of day, weekday, weather, speed zone and driver, learned from the legs the fleet drove (ridge
    regression of the speed against plan; thin terms fall back to the average). Plans re-time their routes with it."""
    first, last = _window(context.partition_key)
    with duckdb.get_connection() as conn:
        legs = _read(conn, "fct_travel_observations", context.partition_key)
        if legs["exclusion_reason"].isna().sum() == 0:
            return _no_history(context, "usable legs")
        fit = fit_travel_time(legs)
        version = write_version(conn, "travel_time", first, last, fit, {"training_days": TRAINING_DAYS})
    factors = fit.tables["travel_time_factors"]
    hours = factor_lookup(factors, "hour")
    weather = factor_lookup(factors, "weather")
    slowest = min(range(6, 21), key=lambda h: hours[str(h)])
    context.log.info(f"{version}: {fit.n_samples} legs, MAE {fit.fit_error} s vs constant speed {fit.baseline_error} s")
    return dg.MaterializeResult(
        metadata=_metadata(
            version,
            first,
            fit,
            {
                "slowest_hour": slowest,
                "slowest_hour_factor": round(hours[str(slowest)], 3),
                "rain_factor": round(weather.get("rain", 1.0), 3),
                "excluded_legs": int(legs["exclusion_reason"].notna().sum()),
            },
        ),
        data_version=_data_version(fit),
    )


@dg.asset(key=SERVICE_MODEL, deps=[STOP_ATTEMPTS, TRAVEL_MODEL], **_COMMON)
def service_time_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Time on site per customer, per site type and zone, and per site type (median, mean, p90 and per parcel),
    learned from the stop events and corrected for the driver's pace."""
    first, last = _window(context.partition_key)
    with duckdb.get_connection() as conn:
        attempts = _read(conn, "fct_stop_attempts", context.partition_key)
        if attempts.empty:
            return _no_history(context, "stop attempts")
        travel = version_id("travel_time", last)
        factors = read_version_table(conn, "travel_time_factors", travel)
        pace = factor_lookup(factors, "vehicle")
        priors = conn.execute("select * from reference.service_time_priors").fetchdf()
        fit = fit_service_time(attempts, pace, priors)
        version = write_version(
            conn,
            "service_time",
            first,
            last,
            fit,
            {"training_days": TRAINING_DAYS, "pace_from": travel if pace else None},
        )
    levels = fit.tables["service_times"]
    context.log.info(f"{version}: {fit.n_samples} stops, MAE {fit.fit_error} s vs priors {fit.baseline_error} s")
    return dg.MaterializeResult(
        metadata=_metadata(
            version,
            first,
            fit,
            {
                "customers": int((levels["level"] == "customer").sum()),
                "median_by_site_type_s": dg.MetadataValue.json(
                    {r.site_type: round(r.median_s) for r in levels[levels["level"] == "site_type"].itertuples()}
                ),
            },
        ),
        data_version=_data_version(fit),
    )


@dg.asset(key=AVAILABILITY_MODEL, deps=[STOP_ATTEMPTS], **_COMMON)
def availability_model(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """First-attempt success by hour of day per zone and customer, and the recommended delivery window of each;
    the planner prefers it for orders without a fixed window."""
    first, last = _window(context.partition_key)
    with duckdb.get_connection() as conn:
        attempts = _read(conn, "fct_stop_attempts", context.partition_key)
        if attempts.empty:
            return _no_history(context, "stop attempts")
        fit = fit_availability(attempts)
        version = write_version(conn, "availability", first, last, fit, {"training_days": TRAINING_DAYS})
    windows = fit.tables["recommended_windows"]
    context.log.info(f"{version}: {fit.n_samples} attempts, Brier {fit.fit_error} vs zone rate {fit.baseline_error}")
    return dg.MaterializeResult(
        metadata=_metadata(
            version,
            first,
            fit,
            {
                "zones": int((windows["level"] == "zone").sum()),
                "customers_with_window": int((windows["level"] == "customer").sum()),
                "customers_with_lift_10pp": int(((windows["level"] == "customer") & (windows["lift"] >= 0.1)).sum()),
            },
        ),
        data_version=_data_version(fit),
    )
