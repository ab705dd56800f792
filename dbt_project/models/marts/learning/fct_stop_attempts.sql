{{ config(
    tags=['actuals'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- Every order attempted on a service date (one visit of int_stop_visits) with what the planner knew of it, for
-- learning service times and customer availability. Service starts at arrival or when the window opens, whichever
-- is later (a driver who arrives early waits); stop_s = time on site from the start of service to the outcome,
-- never below 0. planned_stop_s = the current plan's departure - service start for the order (null: not planned).
-- A visit whose order is not among the orders to plan keeps its row with the order attributes null.
with visits as (
    select * from {{ ref('int_stop_visits') }}
    where {{ in_partition_window('service_date') }}
),

orders as (
    select * from {{ ref('fct_orders_to_plan') }}
    where {{ in_partition_window('service_date') }}
),

planned_stops as (
    select service_date, order_id, departure_s - service_start_s as planned_stop_s
    from {{ ref('fct_planned_stops') }}
    where {{ in_partition_window('service_date') }}
),

weather as (
    select * from {{ ref('int_weather_by_hour') }}
    where {{ in_partition_window('service_date') }}
),

joined as (
    select
        visits.service_date,
        visits.order_id,
        orders.customer_id,
        orders.depot_id,
        visits.vehicle_id,
        orders.site_type,
        orders.town as zone,
        orders.postcode,
        orders.parcels,
        orders.tw_start_s,
        orders.tw_end_s,
        orders.is_all_day,
        visits.arrival_s,
        -- greatest() skips nulls in DuckDB: without a window, service starts at arrival; arriving after the first
        -- of two windows, the driver waits for the second
        case
            when visits.arrival_s > orders.tw_end_s and orders.tw2_start_s is not null
                then greatest(visits.arrival_s, orders.tw2_start_s)
            else greatest(visits.arrival_s, orders.tw_start_s)
        end as service_start_s,
        visits.completion_s,
        visits.outcome,
        visits.failure_reason,
        visits.attempt,
        planned_stops.planned_stop_s
    from visits
    left join orders on visits.service_date = orders.service_date and visits.order_id = orders.order_id
    left join planned_stops
        on visits.service_date = planned_stops.service_date and visits.order_id = planned_stops.order_id
)

select
    joined.service_date,
    joined.order_id,
    joined.customer_id,
    joined.depot_id,
    joined.vehicle_id,
    joined.site_type,
    joined.zone,
    joined.postcode,
    cast(joined.parcels as integer) as parcels,
    cast(joined.tw_start_s as integer) as tw_start_s,
    cast(joined.tw_end_s as integer) as tw_end_s,
    joined.is_all_day,
    cast(joined.arrival_s as integer) as arrival_s,
    cast(joined.service_start_s as integer) as service_start_s,
    cast(joined.completion_s as integer) as completion_s,
    cast(greatest(joined.completion_s - joined.service_start_s, 0) as integer) as stop_s,
    joined.outcome,
    joined.outcome = 'delivered' and joined.attempt = 1 as is_success,
    joined.failure_reason,
    cast(joined.attempt as integer) as attempt,
    cast(floor(joined.service_start_s / 3600) as integer) as service_hour,
    cast(isodow(joined.service_date) - 1 as integer) as weekday,
    coalesce(weather.condition, 'unknown') as weather,
    cast(joined.planned_stop_s as integer) as planned_stop_s
from joined
left join weather
    on joined.service_date = weather.service_date
    and floor(joined.service_start_s / 3600) = weather.local_hour
