{{ config(tags=['actuals']) }}

-- The one cost model: a route day's planned cost (macro route_cost_eur on the plan's metres and seconds with the
-- vehicle type's rates) equals the cost the solver stored for that route in the current plan
-- (= fct_planned_routes.cost_eur), within 1 cent. The current plan (newest valid daily or replan version, as in
-- dim_plan_versions and orchestration.plan_store.current_plan_id) is read from the plans source rather than the plan marts, so that dbt's eager indirect
-- selection does not run this test in the plan-outputs step, before fct_route_days exists.
with current_plans as (
    select plan_id, service_date
    from {{ source('plans', 'plan_runs') }}
    where kind in ('daily', 'replan') and status = 'valid'
    qualify row_number() over (partition by service_date order by created_at_utc desc, version desc) = 1
),

plan_costs as (
    select current_plans.service_date, routes.route_id, routes.cost_eur
    from {{ source('plans', 'routes') }} as routes
    inner join current_plans on routes.plan_id = current_plans.plan_id
)

select
    route_days.service_date,
    route_days.route_id,
    route_days.planned_cost_eur,
    plan_costs.cost_eur
from {{ ref('fct_route_days') }} as route_days
full outer join plan_costs
    on route_days.service_date = plan_costs.service_date and route_days.route_id = plan_costs.route_id
where
    {{ in_partition_window('coalesce(route_days.service_date, plan_costs.service_date)') }}
    and not coalesce(abs(route_days.planned_cost_eur - plan_costs.cost_eur) <= 0.01, false)
