"""The one code location: every asset, check, job, schedule, sensor and resource of lastmile."""

from collections.abc import Iterable

import dagster as dg

from orchestration.assets import demo, ingestion, learning, live, planning, replanning, serving, transform, whatif
from orchestration.jobs import (
    daily_actuals_job,
    daily_planning_job,
    daily_planning_schedule,
    demo_daily_job,
    demo_history_day_job,
    live_state_job,
    replan_job,
    whatif_job,
)
from orchestration.resources import build_resources
from orchestration.sensors import (
    delay_sensor,
    order_changes_sensor,
    replan_request_sensor,
    weather_sensor,
    whatif_request_sensor,
)

LIVE_STATE_KEYS = (dg.AssetKey(["plans", "live_vehicles"]), dg.AssetKey(["plans", "live_stops"]))
# The serving snapshot publishes after these when a run makes them (the live state, a what-if plan).
PUBLISHED_AFTER = (*LIVE_STATE_KEYS, whatif.WHATIF_KEY, whatif.OUTCOMES_KEY)


def after(assets_def: dg.AssetsDefinition, keys: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    """``assets_def`` with every one of its assets also depending on ``keys`` (those it lacks).

    A re-plan writes the same ``plans.*`` tables as the morning plan, under asset keys of its own (an asset has one
    producer); these dependencies make a run that re-plans rebuild the plan marts after the re-plan, and a run that
    refreshes the live state publish after it. Jobs without those assets are not affected.
    """
    keys = [key for key in keys if key not in assets_def.dependency_keys]
    if not keys:
        return assets_def
    # dg.map_asset_specs would add the dependencies to the specs, but (dagster 1.13) neither maps the op's new
    # inputs to their keys, which jobs build their step order from, nor keeps a multi-asset's internal
    # dependencies as they were; so the op gets one Nothing input per key here, mapped explicitly.
    new_inputs = {"_".join(("after", *key.path)): key for key in keys}
    op = assets_def.op.with_replaced_properties(
        name=assets_def.op.name,
        ins={**assets_def.op.ins, **{name: dg.In(dg.Nothing) for name in new_inputs}},
    )
    specs = [spec.replace_attributes(deps=[*spec.deps, *(dg.AssetDep(k) for k in keys)]) for spec in assets_def.specs]
    return dg.AssetsDefinition.dagster_internal_init(
        **{
            **assets_def.get_attributes_dict(),
            "node_def": op,
            "specs": specs,
            "keys_by_input_name": {**assets_def.node_keys_by_input_name, **new_inputs},
        }
    )


defs = dg.Definitions(
    assets=[
        demo.landing_master_data,
        demo.landing_orders,
        demo.landing_execution,
        ingestion.raw_master_data,
        ingestion.raw_orders,
        ingestion.raw_execution_records,
        ingestion.raw_pings,
        transform.dbt_planning_inputs,
        after(transform.dbt_plan_outputs, [replanning.REPLAN_KEY]),
        transform.dbt_actuals,
        transform.dbt_live,
        planning.daily_plan,
        learning.travel_time_model,
        learning.service_time_model,
        learning.availability_model,
        live.raw_live,
        live.live_state,
        replanning.replan_plan,
        whatif.whatif_plan,
        after(serving.serving_snapshot, PUBLISHED_AFTER),
    ],
    jobs=[
        daily_planning_job,
        daily_actuals_job,
        demo_daily_job,
        demo_history_day_job,
        replan_job,
        live_state_job,
        whatif_job,
    ],
    schedules=[daily_planning_schedule],
    sensors=[order_changes_sensor, delay_sensor, weather_sensor, replan_request_sensor, whatif_request_sensor],
    resources=build_resources(),
)
