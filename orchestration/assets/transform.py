"""dbt: staging, intermediate and marts, in three steps around the solve and the day's execution.

`dbt_planning_inputs` builds everything up to the solver's input contract; `dbt_plan_outputs` (tag
`plan_outputs`) builds the plan marts on top of the plans the solve wrote; `dbt_actuals` (tag `actuals`)
builds what happened (deliveries, route days, KPIs) once the day's execution data is in; `dbt_live` (tag `live`)
builds the live state's views over the intraday drops (issue 7). Each takes the partition's service-date window
as `--vars`.
"""

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

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
    # The live models need the day's drops: the replanning flow builds them (dbt_live), the daily jobs never do.
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
def dbt_live(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """The live state's models over the intraday drops (tag `live`): live fixes cleaned, where each order stands,
    each vehicle's position and progress, the orders as changed during the day; tested. Views: the live_state
    asset reads them up to its `as_of`."""
    yield from dbt.cli(["build", "--vars", partition_vars(context)], context=context).stream()
