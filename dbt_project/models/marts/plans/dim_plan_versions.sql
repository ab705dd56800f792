{{ config(tags=['plan_outputs']) }}

-- Every plan version; the newest valid daily or replan version of a date is its current plan (the same rule as
-- orchestration.plan_store.current_plan_id): a re-plan replaces the morning plan, a morning plan made again after it
-- replaces the re-plan. A what-if is never current. Versions are never overwritten, so a re-run adds a version
-- and the previous one stays for comparison.
with runs as (
    select * from {{ source('plans', 'plan_runs') }}
),

ranked as (
    select
        *,
        status = 'valid'
        and kind in ('daily', 'replan')
        and row_number() over (
            partition by service_date, kind in ('daily', 'replan')
            order by (status = 'valid') desc, created_at_utc desc, version desc
        ) = 1 as is_current
    from runs
)

select
    plan_id,
    service_date,
    kind,
    version,
    created_at_utc,
    seed,
    time_budget_s,
    runtime_s,
    objective,
    n_orders,
    n_assigned,
    n_unassigned,
    status,
    travel_model_version,
    service_model_version,
    availability_model_version,
    is_current
from ranked
