{{ config(
    tags=['plan_outputs'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- Planned KPIs per date and depot. Cost per delivery = planned route cost / stops served, the same cost
-- model the solver optimises (solver/costs.py).
with current_plans as (
    select plan_id, service_date from {{ ref('dim_plan_versions') }}
    where is_current and kind in ('daily', 'replan') and {{ in_partition_window('service_date') }}
),

orders as (
    select service_date, depot_id, count(*) as orders
    from {{ ref('fct_orders_to_plan') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, depot_id
),

routes as (
    select
        plan_id,
        depot_id,
        count(*) as routes,
        sum(n_stops) as stops,
        sum(distance_m) / 1000.0 as distance_km,
        sum(duration_s) / 3600.0 as duration_h,
        sum(cost_eur) as cost_eur
    from {{ source('plans', 'routes') }}
    group by plan_id, depot_id
),

unassigned as (
    select plan_id, depot_id, count(*) as unassigned
    from {{ source('plans', 'unassigned') }}
    group by plan_id, depot_id
)

select
    orders.service_date,
    orders.depot_id,
    current_plans.plan_id,
    coalesce(orders.orders, 0) as orders,
    coalesce(routes.routes, 0) as routes,
    coalesce(routes.stops, 0) as stops,
    coalesce(routes.distance_km, 0) as distance_km,
    coalesce(routes.duration_h, 0) as duration_h,
    coalesce(routes.cost_eur, 0) as cost_eur,
    coalesce(routes.cost_eur, 0) / nullif(routes.stops, 0) as cost_per_delivery_eur,
    coalesce(unassigned.unassigned, 0) as unassigned
from orders
inner join current_plans on orders.service_date = current_plans.service_date
left join routes on current_plans.plan_id = routes.plan_id and orders.depot_id = routes.depot_id
left join unassigned on current_plans.plan_id = unassigned.plan_id and orders.depot_id = unassigned.depot_id
