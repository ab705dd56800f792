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

stops as (
    select * from {{ source('plans', 'stops') }}
),

routes as (
    select plan_id, route_id, depot_id from {{ source('plans', 'routes') }}
),

orders as (
    select * from {{ ref('fct_orders_to_plan') }}
)

select
    current_plans.service_date,
    stops.plan_id,
    routes.depot_id,
    stops.route_id,
    stops.vehicle_id,
    stops.sequence,
    stops.order_id,
    orders.customer_id,
    orders.order_type,
    orders.street,
    orders.postcode,
    orders.town,
    orders.lat,
    orders.lon,
    orders.tw_start_s,
    orders.tw_end_s,
    orders.is_all_day,
    orders.tw2_start_s,
    orders.tw2_end_s,
    stops.arrival_s,
    stops.service_start_s,
    stops.departure_s,
    stops.wait_s,
    stops.leg_distance_m,
    stops.leg_duration_s,
    coalesce(stops.late_s, 0) as late_s,
    coalesce(stops.late_s, 0) > 0 as is_at_risk,
    stops.in_preferred_window,
    coalesce(stops.trip, 1) as trip,
    orders.shipment_id,
    orders.parcels,
    orders.weight_g,
    orders.volume_cm3,
    orders.priority,
    orders.notes,
    orders.required_skills
from stops
inner join current_plans on stops.plan_id = current_plans.plan_id
inner join routes on stops.plan_id = routes.plan_id and stops.route_id = routes.route_id
left join orders
    on current_plans.service_date = orders.service_date and stops.order_id = orders.order_id
