{{ config(
    tags=['plan_outputs'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

with current_plans as (
    select plan_id, service_date from {{ ref('dim_plan_versions') }}
    where is_current and kind in ('daily', 'replan') and {{ in_partition_window('service_date') }}
),

unassigned as (
    select * from {{ source('plans', 'unassigned') }}
),

orders as (
    select * from {{ ref('fct_orders_to_plan') }}
)

select
    current_plans.service_date,
    unassigned.plan_id,
    unassigned.depot_id,
    unassigned.order_id,
    orders.customer_id,
    orders.street,
    orders.postcode,
    orders.town,
    orders.lat,
    orders.lon,
    orders.tw_start_s,
    orders.tw_end_s,
    orders.weight_g,
    orders.volume_cm3,
    unassigned.reason_code,
    unassigned.reason
from unassigned
inner join current_plans on unassigned.plan_id = current_plans.plan_id
left join orders
    on current_plans.service_date = orders.service_date and unassigned.order_id = orders.order_id
