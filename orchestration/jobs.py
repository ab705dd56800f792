"""Jobs and schedules."""

import dagster as dg

from orchestration.partitions import service_date_partitions

# The product's daily run: landing files (from your systems) -> raw -> dbt -> plan -> serving.
daily_planning_job = dg.define_asset_job(
    "daily_planning",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("demo"),
    partitions_def=service_date_partitions,
    description="Ingest the service date's landing files, build the marts, plan every depot, publish.",
)

# The demo: the embedded world writes the landing files first.
demo_daily_job = dg.define_asset_job(
    "demo_daily",
    selection=dg.AssetSelection.all(),
    partitions_def=service_date_partitions,
    description="Demo world writes the service date's landing files, then the whole daily run.",
)

# 18:00 local the evening before: the newest partition (end_offset=2) is tomorrow's service date.
daily_planning_schedule = dg.build_schedule_from_partitioned_job(daily_planning_job, hour_of_day=18)
