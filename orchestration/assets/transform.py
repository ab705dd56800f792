"""dbt: staging, intermediate and marts, in three steps around the solve and the day's execution.

`dbt_planning_inputs` builds everything up to the solver's input contract; `dbt_plan_outputs` (tag
`plan_outputs`) builds the plan marts on top of the plans the solve wrote; `dbt_actuals` (tag `actuals`)
builds what happened (deliveries, route days, KPIs) once the day's execution data is in; `dbt_live` (tag `live`)
builds the live state's views over the intraday drops (issue 7). Each takes the partition's service-date window
as `--vars`.

On the `replan` job's critical path `dbt_live` is lean (docs/replanning.md section 3): the live models are views,
so they need building only when the project changed. Each build stamps the views (a DuckDB comment holding a hash
of the live models' definitions in the manifest); a `replan` run whose views carry the current stamp does not call
dbt at all, and otherwise builds them without their data tests (the `replan` job leaves those checks out). The
tests still run wherever `dbt_live` runs in another job (`refresh_live_state`, hourly and after each re-plan) and
in CI.
"""

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb as duckdb_client
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import lastmile_dbt_project
from orchestration.partitions import one_run_per_date, service_date_partitions


class LastmileDbtTranslator(DagsterDbtTranslator):
    """Puts every dbt model in the `transform` group, the live models (tag `live`) in `replanning`."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "replanning" if "live" in dbt_resource_props.get("tags", ()) else "transform"


def partition_vars(context: dg.AssetExecutionContext) -> str:
    """The run's service-date window as dbt `--vars` (inclusive dates), so a backfill range is one dbt run."""
    window = context.partition_time_window
    last_day = window.end - dt.timedelta(days=1)
    return json.dumps({"min_date": window.start.date().isoformat(), "max_date": last_day.date().isoformat()})


@dbt_assets(
    manifest=lastmile_dbt_project.manifest_path,
    project=lastmile_dbt_project,
    # The live models read the day's drops: dbt_live builds them (the daily planning jobs and the replanning flow).
    exclude="tag:plan_outputs tag:actuals tag:live",
    name="dbt_planning_inputs",
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    dagster_dbt_translator=LastmileDbtTranslator(),
    pool="warehouse",
)
def dbt_planning_inputs(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Staging, intermediate and the planning-input marts (orders to plan, vehicle days, depots), tested."""
    yield from dbt.cli(["build", "--vars", partition_vars(context)], context=context).stream()


@dbt_assets(
    manifest=lastmile_dbt_project.manifest_path,
    project=lastmile_dbt_project,
    select="tag:plan_outputs",
    name="dbt_plan_outputs",
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    dagster_dbt_translator=LastmileDbtTranslator(),
    pool="warehouse",
)
def dbt_plan_outputs(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Plan marts: plan versions, planned routes and stops, unassigned orders and planned KPIs, tested."""
    yield from dbt.cli(["build", "--vars", partition_vars(context)], context=context).stream()


@dbt_assets(
    manifest=lastmile_dbt_project.manifest_path,
    project=lastmile_dbt_project,
    select="tag:actuals",
    name="dbt_actuals",
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    dagster_dbt_translator=LastmileDbtTranslator(),
    pool="warehouse",
)
def dbt_actuals(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """What happened: cleaned telematics, deliveries against their windows, route days with actual km and cost,
    and the KPI mart (on-time, cost per delivery, first-attempt success, rating), tested."""
    yield from dbt.cli(["build", "--vars", partition_vars(context)], context=context).stream()


@dbt_assets(
    manifest=lastmile_dbt_project.manifest_path,
    project=lastmile_dbt_project,
    select="tag:live",
    name="dbt_live",
    partitions_def=service_date_partitions,
    backfill_policy=one_run_per_date,
    dagster_dbt_translator=LastmileDbtTranslator(),
    pool="warehouse",
)
def dbt_live(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    """The live state's models over the intraday drops (tag `live`): live fixes cleaned, where each order stands,
    each vehicle's position and progress, the orders as changed during the day; tested. Views: the live_state
    asset reads them up to its `as_of`. In the `replan` job: not rebuilt when the views are current (their stamp
    matches the manifest), and built without their tests otherwise (see the module docstring)."""
    stamp, relations = _live_stamp_of(lastmile_dbt_project.manifest_path)
    if context.run.job_name == LEAN_LIVE_JOB:
        with duckdb.get_connection() as conn:
            current = live_views_current(conn, relations, stamp)
        if current:
            context.log.info(f"live views current (stamp {stamp[:12]}): not rebuilt")
            # In dependency order, as a multi-asset must yield them.
            selected = context.selected_asset_keys
            deps = context.assets_def.asset_deps
            order = TopologicalSorter({key: set(deps.get(key, ())) & selected for key in selected}).static_order()
            for key in order:
                yield dg.MaterializeResult(asset_key=key, metadata={"rebuilt": False, "live_views_stamp": stamp[:12]})
            return
    yield from dbt.cli(["build", "--vars", partition_vars(context)], context=context).stream()
    with duckdb.get_connection() as conn:
        stamp_live_views(conn, relations, stamp)


def _live_stamp_of(manifest_path: Path) -> tuple[str, list[tuple[str, str]]]:
    """The live models' stamp and view relations of the manifest file, read once per version of the file."""
    stat = manifest_path.stat()
    return _live_stamp_cached(str(manifest_path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _live_stamp_cached(path: str, mtime_ns: int, size: int) -> tuple[str, list[tuple[str, str]]]:
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    return live_models_stamp(manifest), live_view_relations(manifest)


LEAN_LIVE_JOB = "replan"
"""The job whose `dbt_live` step skips dbt when the live views are current (orchestration/jobs.py)."""
LIVE_STAMP_PREFIX = "lastmile dbt_live "


def live_models_stamp(manifest: Mapping[str, Any]) -> str:
    """A hash of what the live models (tag `live`) compile from: each model's SQL checksum, config and the SQL of
    the macros it uses, so a changed model, config or macro changes the stamp.

    Parameters
    ----------
    manifest
        The parsed ``manifest.json``.

    Returns
    -------
    str
        Hex SHA-256.
    """
    macros = manifest.get("macros", {})
    parts = []
    for unique_id, node in sorted(manifest["nodes"].items()):
        if node.get("resource_type") != "model" or "live" not in node.get("tags", ()):
            continue
        used = sorted(node.get("depends_on", {}).get("macros", ()))
        parts.append(
            {
                "id": unique_id,
                "checksum": node.get("checksum", {}).get("checksum"),
                "config": node.get("config", {}),
                "refs": sorted(node.get("depends_on", {}).get("nodes", ())),
                "macros": [macros.get(m, {}).get("macro_sql", m) for m in used],
            }
        )
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def live_view_relations(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(schema, name)`` of each live model (tag `live`) materialised as a view."""
    return sorted(
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest["nodes"].values()
        if node.get("resource_type") == "model"
        and "live" in node.get("tags", ())
        and node.get("config", {}).get("materialized") == "view"
    )


def live_views_current(conn: duckdb_client.DuckDBPyConnection, relations: list[tuple[str, str]], stamp: str) -> bool:
    """Whether every live model is a view of the warehouse stamped with ``stamp`` (built from these definitions).
    False when the list is empty, a model is not a view, or a view is missing or carries another stamp."""
    if not relations:
        return False
    rows = conn.execute(
        "select schema_name, view_name, comment from duckdb_views() where database_name = current_database() "
        "and not internal"
    ).fetchall()
    comments = {(schema, name): comment for schema, name, comment in rows}
    return all(comments.get(relation) == LIVE_STAMP_PREFIX + stamp for relation in relations)


def stamp_live_views(conn: duckdb_client.DuckDBPyConnection, relations: list[tuple[str, str]], stamp: str) -> None:
    """Stamp the live views just built (a DuckDB comment on each view); a missing one is left unstamped."""
    existing = {
        (schema, name)
        for schema, name in conn.execute(
            "select schema_name, view_name from duckdb_views() where database_name = current_database()"
        ).fetchall()
    }
    for schema, name in relations:
        if (schema, name) in existing:
            # Names come from the dbt manifest (identifiers of this project), quoted; the stamp is a hex digest.
            conn.execute(f'comment on view "{schema}"."{name}" is \'{LIVE_STAMP_PREFIX}{stamp}\'')
