"""Jobs and schedules."""

import dagster as dg

from orchestration.assets import demo, ingestion, learning, live, replanning, serving, transform, whatif
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
# During the day: live drops -> raw.live_* -> dbt live models -> live state (-> re-plan). The daily jobs leave
# the live state and the re-plan out: the morning plan is made before the day has live data.
REPLANNING = dg.AssetSelection.groups("replanning")
# ... but build the live views (over the date's live tables, empty until the first drop) with the plan: the views
# change only with the dbt project, so the day's first re-plan finds them current and does not call dbt (its
# first ingest took 11.9 s of its 26.4 s at default scale when it built them).
LIVE_VIEWS = dg.AssetSelection.assets(live.raw_live, transform.dbt_live)
PUBLISH_PLAN = dg.AssetSelection.assets(transform.dbt_plan_outputs, serving.serving_snapshot)
# On request only: what-if plans (docs/scenarios.md). No other job runs them.
SCENARIOS = dg.AssetSelection.groups("scenarios")

# The product's daily run: landing files (from your systems) -> raw -> dbt -> plan -> serving.
daily_planning_job = dg.define_asset_job(
    "daily_planning",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups("demo")
    - EXECUTION
    - (REPLANNING - LIVE_VIEWS)
    - SCENARIOS,
    partitions_def=service_date_partitions,
    description=(
        "Ingest the service date's landing files, build the marts, plan every depot, publish; build the live views "
        "the day's re-plans read."
    ),
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
    selection=dg.AssetSelection.all() - EXECUTION - (REPLANNING - LIVE_VIEWS) - SCENARIOS,
    partitions_def=service_date_partitions,
    description="Demo world writes the service date's landing files, then the whole daily planning run.",
)

# A past day of the demo, end to end: orders -> plan -> execution in the simulated world -> actuals -> publish.
demo_history_day_job = dg.define_asset_job(
    "demo_history_day",
    selection=dg.AssetSelection.all() - REPLANNING - SCENARIOS,
    partitions_def=service_date_partitions,
    description="Demo world: plan the date, play the plan out, ingest what happened, compute the KPIs, publish.",
)

# During the day, on new orders, a breakdown, a delay or the dispatcher's request (orchestration/sensors.py): the
# live state, a re-plan from it, then the plan marts of the new current plan and a fresh snapshot. The plan reaches
# the drivers when `replan_plan` has written it to plans.* and its blocking plan_is_valid check passed; the plan
# marts and the snapshot (the dashboard refresh) come after, and a failure there does not undo the plan. Lean
# critical path (docs/replanning.md section 3): the live dbt models without their data tests (they run in
# `refresh_live_state` and CI), and not rebuilt at all when the views are current (transform.dbt_live); one process
# for the whole run (no process start per step), so the solve's worker pool warmed while the drops load is reused.
REPLAN_SELECTION = (
    REPLANNING - dg.AssetSelection.assets(transform.dbt_live)
    | dg.AssetSelection.assets(transform.dbt_live).without_checks()
    | PUBLISH_PLAN
)
replan_job = dg.define_asset_job(
    "replan",
    selection=REPLAN_SELECTION,
    partitions_def=service_date_partitions,
    executor_def=dg.in_process_executor,
    description=(
        "Ingest the date's live drops, build the live state, re-plan every depot from it (a new plan version of "
        "kind replan, valid before it counts as published), then rebuild the plan marts and publish the snapshot."
    ),
)

# The live state alone (positions, progress, re-timed ETAs, stops at risk) and a fresh snapshot for the app; the
# delay sensor watches what it writes. (Not named live_state: a job cannot share its name with that asset's op.)
live_state_job = dg.define_asset_job(
    "refresh_live_state",
    selection=(REPLANNING - dg.AssetSelection.assets(replanning.replan_plan))
    | dg.AssetSelection.assets(serving.serving_snapshot),
    partitions_def=service_date_partitions,
    description="Ingest the date's live drops, build the live state and the ETAs of the remaining stops, publish.",
)

# The scenario page's "Run scenario" (orchestration/sensors.py) or the CLI: a what-if plan of a date, simulated when
# the date is past, and a fresh snapshot with it. The plan marts are not rebuilt: a what-if is never current.
whatif_job = dg.define_asset_job(
    "whatif",
    selection=dg.AssetSelection.assets(whatif.whatif_plan) | dg.AssetSelection.assets(serving.serving_snapshot),
    partitions_def=service_date_partitions,
    description=(
        "Plan the date under a what-if scenario (fleet, shifts, windows, budget; run config), store it as kind "
        "whatif, play it through the simulator for a past date, publish."
    ),
)

# 18:00 local the evening before: the newest partition (end_offset=2) is tomorrow's service date.
daily_planning_schedule = dg.build_schedule_from_partitioned_job(daily_planning_job, hour_of_day=18)
