{{ config(
    tags=['actuals'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- Every order of the date exactly once, the current plan against what happened.
-- Outcome: the visit's outcome (delivered / failed); without a visit `not_attempted` if the current plan routed the
-- order, else `unassigned` (left unassigned by the plan, or no current plan for the date).
-- On time: service could start inside a window, i.e. actual arrival <= the end of the order's last window
-- (tw2_end_s when it has a second one, else tw_end_s; arriving early and waiting is on time). minutes_late =
-- max(arrival - that end, 0) / 60. Both null when the order was not attempted.
-- Late cause (only when late), first rule that holds; "explains most" = accounts for at least half the lateness:
--   late_departure  the vehicle left the depot > 10 min after the plan and that delay explains most of it;
--   weather         precipitation at the local hour of arrival (precipitation_mm > 0 or rain / heavy_rain / snow);
--   long_service    the route's earlier stops took longer on site than planned, and the overrun explains most of it;
--   traffic         anything else (the drive took longer than planned).
{% set late_departure_min = 10 %}
{% set explains_most = 0.5 %}

with orders as (
    select * from {{ ref('fct_orders_to_plan') }}
    where {{ in_partition_window('service_date') }}
),

planned_stops as (
    select * from {{ ref('fct_planned_stops') }}
    where {{ in_partition_window('service_date') }}
),

visits as (
    select * from {{ ref('int_stop_visits') }}
    where {{ in_partition_window('service_date') }}
),

route_days as (
    select * from {{ ref('fct_route_days') }}
    where {{ in_partition_window('service_date') }}
),

ratings as (
    select service_date, order_id, arg_max(rating, rated_at_utc) as rating
    from {{ ref('stg_ratings') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, order_id
),

wet_hours as (
    select service_date, local_hour
    from {{ ref('stg_weather_observations') }}
    where
        {{ in_partition_window('service_date') }}
        and (precipitation_mm > 0 or condition in ('rain', 'heavy_rain', 'snow'))
    group by service_date, local_hour
),

joined as (
    select
        orders.service_date,
        orders.order_id,
        orders.customer_id,
        orders.depot_id,
        coalesce(visits.vehicle_id, planned_stops.vehicle_id) as vehicle_id,
        visits.driver_id as visit_driver_id,
        orders.postcode,
        orders.town,
        orders.lat,
        orders.lon,
        orders.tw_start_s,
        orders.tw_end_s,
        coalesce(orders.tw2_end_s, orders.tw_end_s) as last_window_end_s,
        orders.is_all_day,
        planned_stops.arrival_s as planned_arrival_s,
        planned_stops.departure_s - planned_stops.arrival_s as planned_on_site_s,
        visits.arrival_s as actual_arrival_s,
        visits.completion_s as actual_departure_s,
        visits.on_site_s,
        case
            when visits.outcome is not null then visits.outcome
            when planned_stops.order_id is not null then 'not_attempted'
            else 'unassigned'
        end as outcome,
        visits.failure_reason,
        visits.attempt,
        ratings.rating
    from orders
    left join planned_stops
        on orders.service_date = planned_stops.service_date and orders.order_id = planned_stops.order_id
    left join visits on orders.service_date = visits.service_date and orders.order_id = visits.order_id
    left join ratings on orders.service_date = ratings.service_date and orders.order_id = ratings.order_id
),

with_route as (
    select
        joined.*,
        route_days.route_id,
        coalesce(joined.visit_driver_id, route_days.driver_id) as driver_id,
        route_days.departure_delay_min,
        joined.actual_arrival_s - joined.last_window_end_s as late_s,
        -- on-site overrun of the same vehicle's earlier visits that day (unplanned visits count 0)
        coalesce(sum(joined.on_site_s - coalesce(joined.planned_on_site_s, joined.on_site_s)) over (
            partition by joined.service_date, joined.vehicle_id
            order by joined.actual_arrival_s, joined.order_id
            rows between unbounded preceding and 1 preceding
        ), 0) as earlier_overrun_s,
        wet_hours.local_hour is not null as was_wet
    from joined
    left join route_days
        on joined.service_date = route_days.service_date and joined.vehicle_id = route_days.vehicle_id
    left join wet_hours
        on joined.service_date = wet_hours.service_date
        and floor(joined.actual_arrival_s / 3600) = wet_hours.local_hour
)

select
    service_date,
    order_id,
    customer_id,
    depot_id,
    vehicle_id,
    driver_id,
    route_id,
    postcode,
    town,
    lat,
    lon,
    tw_start_s,
    tw_end_s,
    is_all_day,
    planned_arrival_s,
    actual_arrival_s,
    actual_departure_s,
    actual_arrival_s - planned_arrival_s as eta_error_s,
    actual_arrival_s <= last_window_end_s as is_on_time,
    -- greatest() skips nulls in DuckDB: keep minutes_late null for orders never reached
    case when late_s is not null then greatest(late_s, 0) / 60.0 end as minutes_late,
    outcome,
    failure_reason,
    attempt,
    case when actual_arrival_s is not null then outcome = 'delivered' and attempt = 1 end
        as is_first_attempt_success,
    rating,
    case
        when late_s is null or late_s <= 0 then null
        when departure_delay_min > {{ late_departure_min }}
            and departure_delay_min * 60 >= {{ explains_most }} * late_s then 'late_departure'
        when was_wet then 'weather'
        when earlier_overrun_s >= {{ explains_most }} * late_s then 'long_service'
        else 'traffic'
    end as late_cause
from with_route
