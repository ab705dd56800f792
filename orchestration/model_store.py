"""Learned models in the warehouse: the ``models`` schema, one version per model and training date.

Each model (travel time, service time, customer availability) is fitted from the actuals marts by a Dagster
asset partitioned by service date: partition D is the version trained on the days up to and including D. A plan
for date D uses, per model, the newest version trained on days before D, and records which one it used.
Re-running a partition replaces that version, inside one transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

MODEL_NAMES = ("travel_time", "service_time", "availability")
"""The learned models, as named in ``models.model_versions.model``."""

MODELS_DDL = (
    "create schema if not exists models",
    # One row per model version: when it was trained, on what, and how well it fits days it did not see.
    """create table if not exists models.model_versions (
        model varchar not null, version varchar not null, trained_from date, trained_through date not null,
        created_at_utc timestamptz not null, n_samples bigint not null, fit_error double,
        baseline_error double, error_metric varchar, parameters varchar,
        primary key (model, version))""",
    # Travel time: speed multipliers on the vehicle's planning speed (1 = as planned, 0.8 = 20% slower), by term:
    # 'hour' (key '0'..'23', local hour of departure), 'weekday' (key 'Mon'..'Sun'), 'weather' (key 'dry',
    # 'rain', 'heavy_rain', 'snow'), 'zone' (key a speed-zone cell id, solver.timing.zone_cells), 'vehicle'
    # (key a vehicle id: the driver's pace, for driving and service). A leg's speed is the product of its terms.
    """create table if not exists models.travel_time_factors (
        version varchar not null, term varchar not null, key varchar not null, factor double not null,
        n_samples bigint not null)""",
    # Service time (time on site from the start of service to leaving, failed attempts included), per level:
    # 'customer' (customers with history), 'site_zone' (site type in a zone), 'site_type'. Estimates are for a
    # one-parcel stop; per_parcel_s is added for each further parcel.
    """create table if not exists models.service_times (
        version varchar not null, level varchar not null, site_type varchar, zone varchar, customer_id varchar,
        n_samples bigint not null, median_s double not null, mean_s double not null, p90_s double not null,
        per_parcel_s double not null)""",
    # Customer availability: first-attempt success by local hour of the start of service, per 'zone' (town)
    # and per 'customer'; success_rate is smoothed towards the zone's (and the zone's towards the whole area's).
    """create table if not exists models.availability (
        version varchar not null, level varchar not null, zone varchar, customer_id varchar, hour integer not null,
        attempts bigint not null, successes bigint not null, success_rate double not null)""",
    # Recommended delivery window per 'zone' and per 'customer' with history: the block of hours with the highest
    # smoothed success, against the success over the whole day (lift = success_rate - day_success_rate).
    """create table if not exists models.recommended_windows (
        version varchar not null, level varchar not null, zone varchar, customer_id varchar,
        window_start_s integer not null, window_end_s integer not null, success_rate double not null,
        day_success_rate double not null, lift double not null, attempts bigint not null)""",
)

MODEL_TABLES = ("model_versions", "travel_time_factors", "service_times", "availability", "recommended_windows")


def ensure_models_schema(conn) -> None:
    """Create the ``models`` schema and its tables if they do not exist."""
    for statement in MODELS_DDL:
        conn.execute(statement)


def version_id(model: str, trained_through: str) -> str:
    """The version id of a model trained on the days up to and including ``trained_through`` (ISO date)."""
    return f"{model}@{trained_through}"


def write_version(
    conn,
    model: str,
    trained_from: str,
    trained_through: str,
    fit,
    parameters: dict,
) -> str:
    """Store one fitted version (replacing an earlier fit of the same version) in one transaction.

    ``fit`` is an :class:`orchestration.learning.Fit`; its tables go to ``models.<table>`` with the version id.
    Returns the version id.
    """
    ensure_models_schema(conn)
    version = version_id(model, trained_through)
    conn.execute("begin transaction")
    try:
        conn.execute("delete from models.model_versions where model = ? and version = ?", [model, version])
        for table in fit.tables:
            conn.execute(f"delete from models.{table} where version = ?", [version])  # table: a fixed name
        conn.execute(
            "insert into models.model_versions values (?, ?, cast(? as date), cast(? as date), ?, ?, ?, ?, ?, ?)",
            [
                model,
                version,
                trained_from,
                trained_through,
                datetime.now(UTC),
                fit.n_samples,
                fit.fit_error,
                fit.baseline_error,
                fit.error_metric,
                json.dumps(parameters, sort_keys=True),
            ],
        )
        for table, frame in fit.tables.items():
            rows = frame.assign(version=version)
            conn.register("_model_rows", rows)
            try:
                conn.execute(f"insert into models.{table} by name select * from _model_rows")
            finally:
                conn.unregister("_model_rows")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return version


def newest_version_before(conn, model: str, service_date: str) -> str | None:
    """The newest version of ``model`` trained only on days before ``service_date``; None if there is none."""
    if not _has_models_schema(conn):
        return None
    row = conn.execute(
        "select version from models.model_versions where model = ? and trained_through < cast(? as date) "
        "order by trained_through desc limit 1",
        [model, service_date],
    ).fetchone()
    return row[0] if row else None


def read_version_table(conn, table: str, version: str):
    """The rows of ``models.<table>`` of one version (without the version column), as a DataFrame."""
    if table not in MODEL_TABLES:
        raise ValueError(f"unknown model table {table!r}")
    return conn.execute(f"select * exclude (version) from models.{table} where version = ?", [version]).fetchdf()


def _has_models_schema(conn) -> bool:
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'models' "
            "and table_name = 'model_versions'"
        ).fetchone()[0]
    )
