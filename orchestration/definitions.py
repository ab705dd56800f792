"""The one code location: every asset, check, job, schedule and resource of lastmile."""

import dagster as dg

from orchestration.assets import demo, ingestion, learning, planning, serving, transform
from orchestration.jobs import (
    daily_actuals_job,
    daily_planning_job,
    daily_planning_schedule,
    demo_daily_job,
    demo_history_day_job,
)
from orchestration.resources import build_resources

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
        transform.dbt_plan_outputs,
        transform.dbt_actuals,
        planning.daily_plan,
        learning.travel_time_model,
        learning.service_time_model,
        learning.availability_model,
        serving.serving_snapshot,
    ],
    jobs=[daily_planning_job, daily_actuals_job, demo_daily_job, demo_history_day_job],
    schedules=[daily_planning_schedule],
    resources=build_resources(),
)
