"""Partitions: one per service date in the operation's time zone."""

import dagster as dg

OPERATION_TIMEZONE = "Europe/Vaduz"

# end_offset=2 keeps tomorrow's date a valid partition all day: tomorrow is what a planner plans.
service_date_partitions = dg.DailyPartitionsDefinition(
    start_date="2025-01-01",
    timezone=OPERATION_TIMEZONE,
    end_offset=2,
)

# One run per service date in backfills: each date's plan is its own solve, and dbt gets that date's window.
one_run_per_date = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
