{{ config(
    tags=['plan_outputs'],
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

with current_plans as (
    select plan_id, service_date from {{ ref('dim_plan_versions') }}
    where is_current and kind in ('daily', 'replan') and {{ in_partition_window('service_date') }}
),

routes as (
    select * from {{ source('plans', 'routes') }}
),

vehicles as (
    select * from {{ ref('fct_vehicle_days') }}
)

select
    current_plans.service_date,
    routes.plan_id,
    routes.depot_id,
    routes.route_id,
    routes.vehicle_id,
    routes.vehicle_type,
    routes.n_stops,
    routes.start_s,
    routes.end_s,
    routes.distance_m,
    routes.duration_s,
    routes.weight_g,
    routes.volume_cm3,
    vehicles.capacity_weight_g,
    vehicles.capacity_volume_cm3,
    routes.cost_eur,
    coalesce(routes.overtime_s, 0) as overtime_s,
    -- Issue 6; plans stored before it have none of these: the home depot, no reloads, no break.
    coalesce(nullif(routes.start_depot_id, ''), routes.depot_id) as start_depot_id,
    coalesce(nullif(routes.end_depot_id, ''), routes.depot_id) as end_depot_id,
    coalesce(routes.n_reloads, 0) as n_reloads,
    routes.break_after_sequence,
    routes.break_start_s,
    case when routes.break_start_s is not null then vehicles.break_s end as break_s,
    vehicles.capacity_parcels
from routes
inner join current_plans on routes.plan_id = current_plans.plan_id
left join vehicles
    on current_plans.service_date = vehicles.service_date and routes.vehicle_id = vehicles.vehicle_id
