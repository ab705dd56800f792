{{ config(
    tags=['actuals'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- Delivery KPIs per date and depot, cut four ways (dimension / dimension_value):
--   depot  the depot itself;            driver  the driver (orders without one: 'none');
--   zone   the delivery town ('unknown' when missing);  hour  local hour of actual arrival, '07'..'20' ('none' when
--          the order was not attempted).
-- Every cut of a depot covers all its orders, so orders add up to the depot's orders in each dimension.
-- Rates are over attempted orders (on time, first-attempt success). Route-level KPIs (cost per delivery =
-- actual route cost / delivered, stops per hour = attempted / route hours, km per stop = actual km / attempted,
-- vehicle utilisation = route hours / shift hours) come from fct_route_days and exist for `depot` and `driver`
-- only; a zone or an hour shares routes with others, so they are null there rather than an arbitrary allocation.
with deliveries as (
    select * from {{ ref('fct_deliveries') }}
    where {{ in_partition_window('service_date') }}
),

route_days as (
    select
        *,
        coalesce(actual_end_s - actual_start_s, 0) / 3600.0 as route_h
    from {{ ref('fct_route_days') }}
    where {{ in_partition_window('service_date') }}
),

cuts as (
    select service_date, depot_id, 'depot' as dimension, depot_id as dimension_value, * exclude (service_date, depot_id)
    from deliveries
    union all
    select service_date, depot_id, 'driver', coalesce(driver_id, 'none'), * exclude (service_date, depot_id)
    from deliveries
    union all
    select service_date, depot_id, 'zone', coalesce(town, 'unknown'), * exclude (service_date, depot_id)
    from deliveries
    union all
    select
        service_date,
        depot_id,
        'hour',
        coalesce(lpad(cast(cast(floor(actual_arrival_s / 3600) as integer) as varchar), 2, '0'), 'none'),
        * exclude (service_date, depot_id)
    from deliveries
),

order_kpis as (
    select
        service_date,
        depot_id,
        dimension,
        dimension_value,
        count(*) as orders,
        count_if(outcome in ('delivered', 'failed')) as attempted,
        count_if(outcome = 'delivered') as delivered,
        count_if(outcome = 'failed') as failed,
        count_if(is_on_time) as on_time,
        count_if(is_first_attempt_success) as first_attempt_successes,
        avg(rating) as avg_rating,
        count(rating) as ratings
    from cuts
    group by service_date, depot_id, dimension, dimension_value
),

route_cuts as (
    select service_date, depot_id, 'depot' as dimension, depot_id as dimension_value, *
        exclude (service_date, depot_id)
    from route_days
    union all
    select service_date, depot_id, 'driver', driver_id, * exclude (service_date, depot_id)
    from route_days
    where driver_id is not null
),

route_kpis as (
    select
        service_date,
        depot_id,
        dimension,
        dimension_value,
        -- Rounded: a parallel float sum may differ in its last digits between runs; re-runs must be identical.
        round(sum(actual_cost_eur), 6) as actual_cost_eur,
        round(sum(actual_km), 6) as actual_km,
        round(sum(route_h), 9) as route_h,
        round(sum(shift_h), 9) as shift_h
    from route_cuts
    group by service_date, depot_id, dimension, dimension_value
)

select
    order_kpis.service_date,
    order_kpis.depot_id,
    order_kpis.dimension,
    order_kpis.dimension_value,
    order_kpis.orders,
    order_kpis.attempted,
    order_kpis.delivered,
    order_kpis.failed,
    round(order_kpis.on_time / nullif(order_kpis.attempted, 0), 9) as on_time_rate,
    round(route_kpis.actual_cost_eur / nullif(order_kpis.delivered, 0), 9) as cost_per_delivery_eur,
    round(order_kpis.first_attempt_successes / nullif(order_kpis.attempted, 0), 9) as first_attempt_success_rate,
    round(order_kpis.attempted / nullif(route_kpis.route_h, 0), 9) as stops_per_hour,
    round(route_kpis.actual_km / nullif(order_kpis.attempted, 0), 9) as km_per_stop,
    round(route_kpis.route_h / nullif(route_kpis.shift_h, 0), 9) as vehicle_utilisation,
    round(order_kpis.avg_rating, 9) as avg_rating,
    order_kpis.ratings
from order_kpis
left join route_kpis
    on order_kpis.service_date = route_kpis.service_date
    and order_kpis.depot_id = route_kpis.depot_id
    and order_kpis.dimension = route_kpis.dimension
    and order_kpis.dimension_value = route_kpis.dimension_value
