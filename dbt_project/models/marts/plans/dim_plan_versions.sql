{{ config(tags=['plan_outputs']) }}

-- Every plan version; the newest valid version per date and kind is the current plan (versions are never
-- overwritten, so a re-run adds a version and the previous one stays for comparison).
with runs as (
    select * from {{ source('plans', 'plan_runs') }}
),

ranked as (
    select
        *,
        status = 'valid'
        and row_number() over (
            partition by service_date, kind order by (status = 'valid') desc, version desc
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
