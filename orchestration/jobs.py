"""Jobs and schedules."""

import dagster as dg

from orchestration.assets import demo, ingestion, learning, transform
from orchestration.partitions import service_date_partitions

# What happened on a day: execution files -> raw -> dbt actuals -> learned models. Planning jobs leave these out
# (a plan uses the newest model versions trained on the days before its date).
EXECUTION = dg.AssetSelection.assets(
    ingestion.raw_execution_records,
    ingestion.raw_pings,
    transform.dbt_actuals,
    demo.landing_execution,
    learning.travel_time_model,
    learning.service_time_model,
    learning.availability_model,
)
DEMO_LANDING = dg.AssetSelection.assets(demo.landing_master_data, demo.landing_orders)

# The product's daily run: landing files (from your systems) -> raw -> dbt -> plan -> serving.
daily_planning_job = dg.define_asset_job(
    "daily_planning",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("demo") - EXECUTION,
    partitions_def=service_date_partitions,
    description="Ingest the service date's landing files, build the marts, plan every depot, publish.",
)

# After the day: ingest what the fleet's systems recorded and compute the actuals and KPIs.
daily_actuals_job = dg.define_asset_job(
    "daily_actuals",
    selection=EXECUTION - dg.AssetSelection.groups("demo") | dg.AssetSelection.keys("serving_snapshot"),
    partitions_def=service_date_partitions,
    description=(
        "Ingest the day's telematics, stop events, ratings and weather; build actuals and KPIs; learn travel times, "
        "service times and customer availability; publish."
    ),
)

# The demo: the embedded world writes the order and master-data files first.
demo_daily_job = dg.define_asset_job(
    "demo_daily",
    selection=dg.AssetSelection.all() - EXECUTION,
    partitions_def=service_date_partitions,
    description="Demo world writes the service date's landing files, then the whole daily planning run.",
)

# A past day of the demo, end to end: orders -> plan -> execution in the simulated world -> actuals -> publish.
demo_history_day_job = dg.define_asset_job(
    "demo_history_day",
    selection=dg.AssetSelection.all(),
    partitions_def=service_date_partitions,
    description="Demo world: plan the date, play the plan out, ingest what happened, compute the KPIs, publish.",
)

# 18:00 local the evening before: the newest partition (end_offset=2) is tomorrow's service date.
daily_planning_schedule = dg.build_schedule_from_partitioned_job(daily_planning_job, hour_of_day=18)
