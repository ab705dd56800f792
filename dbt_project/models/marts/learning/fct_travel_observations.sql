{{ config(
    tags=['actuals'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- Every leg a vehicle drove on a service date, from the driver-app events: per vehicle and date in recorded order
-- (event time, then the app's record order, so a same-second outcome and next arrival keep their order), a leg
-- starts at a `depot_departure` or an order's outcome (`delivered` / `failed`) and ends at the event right after
-- it when that is an `arrived` or a `depot_return`. A start followed by another start (an outcome without its
-- arrival) or an arrival the app never closed gives no leg: its departure or arrival time is unknown.
-- Coordinates are the planning ones (the order's geocode, the vehicle's depot), not the events' GPS, so a leg
-- compares with what the planner assumed: straight_m x 1.3 at the vehicle type's speed.
-- Nothing is dropped; exclusion_reason says why a leg should not be learned from (null = usable), first rule that
-- holds: zero_duration, too_short (< 100 m apart), implausible_speed (duration outside 0.1 .. 10 x the planner's
-- estimate), unmatched (an end without planning coordinates, or no planning speed for the vehicle).
{% set road_factor = 1.3 %}
{% set min_straight_m = 100 %}
{% set min_speed_ratio = 0.1 %}
{% set max_speed_ratio = 10 %}

with events as (
    select
        service_date,
        vehicle_id,
        order_id,
        event_type,
        event_s,
        row_number() over (
            partition by service_date, vehicle_id
            order by event_s, source_file, source_row, event_id
        ) as event_seq
    from {{ ref('stg_stop_events') }}
    where {{ in_partition_window('service_date') }}
),

sequenced as (
    select
        *,
        lead(event_type) over vehicle_day as next_event_type,
        lead(order_id) over vehicle_day as next_order_id,
        lead(event_s) over vehicle_day as next_event_s
    from events
    window vehicle_day as (partition by service_date, vehicle_id order by event_seq)
),

legs as (
    select
        service_date,
        vehicle_id,
        event_seq,
        event_type = 'depot_departure' as from_depot,
        next_event_type = 'depot_return' as to_depot,
        case when event_type <> 'depot_departure' then order_id end as from_order_id,
        case when next_event_type <> 'depot_return' then next_order_id end as to_order_id,
        cast(event_s as integer) as depart_s,
        cast(next_event_s as integer) as arrive_s
    from sequenced
    where
        event_type in ('depot_departure', 'delivered', 'failed')
        and next_event_type in ('arrived', 'depot_return')
),

orders as (
    select service_date, order_id, lat, lon from {{ ref('fct_orders_to_plan') }}
    where {{ in_partition_window('service_date') }}
),

fleet as (
    select
        vehicles.service_date,
        vehicles.vehicle_id,
        vehicles.vehicle_type,
        vehicles.depot_id,
        vehicle_types.speed_kmh,
        depots.lat as depot_lat,
        depots.lon as depot_lon
    from {{ ref('stg_vehicles') }} as vehicles
    left join {{ ref('stg_vehicle_types') }} as vehicle_types
        on vehicles.service_date = vehicle_types.service_date
        and vehicles.vehicle_type = vehicle_types.vehicle_type
    left join {{ ref('stg_depots') }} as depots
        on vehicles.service_date = depots.service_date and vehicles.depot_id = depots.depot_id
    where {{ in_partition_window('vehicles.service_date') }}
),

weather as (
    select * from {{ ref('int_weather_by_hour') }}
    where {{ in_partition_window('service_date') }}
),

located as (
    select
        legs.service_date,
        legs.vehicle_id,
        fleet.vehicle_type,
        fleet.depot_id,
        legs.event_seq,
        legs.from_order_id,
        legs.to_order_id,
        case when legs.from_depot then fleet.depot_lat else from_orders.lat end as from_lat,
        case when legs.from_depot then fleet.depot_lon else from_orders.lon end as from_lon,
        case when legs.to_depot then fleet.depot_lat else to_orders.lat end as to_lat,
        case when legs.to_depot then fleet.depot_lon else to_orders.lon end as to_lon,
        legs.depart_s,
        legs.arrive_s,
        legs.arrive_s - legs.depart_s as duration_s,
        fleet.speed_kmh as planning_speed_kmh
    from legs
    left join fleet on legs.service_date = fleet.service_date and legs.vehicle_id = fleet.vehicle_id
    left join orders as from_orders
        on legs.service_date = from_orders.service_date and legs.from_order_id = from_orders.order_id
    left join orders as to_orders
        on legs.service_date = to_orders.service_date and legs.to_order_id = to_orders.order_id
),

measured as (
    select
        *,
        {{ haversine_m('from_lat', 'from_lon', 'to_lat', 'to_lon') }} as straight_m
    from located
),

-- The planner's estimate of the leg: straight line x road factor at the vehicle type's speed.
estimated as (
    select
        *,
        straight_m * {{ road_factor }} / (nullif(planning_speed_kmh, 0) / 3.6) as planner_s
    from measured
),

classified as (
    select
        *,
        case
            when duration_s <= 0 then 'zero_duration'
            when straight_m < {{ min_straight_m }} then 'too_short'
            when duration_s < {{ min_speed_ratio }} * planner_s or duration_s > {{ max_speed_ratio }} * planner_s
                then 'implausible_speed'
            when planner_s is null then 'unmatched'
        end as exclusion_reason
    from estimated
)

select
    classified.service_date,
    classified.vehicle_id,
    classified.vehicle_type,
    classified.depot_id,
    cast(row_number() over (
        partition by classified.service_date, classified.vehicle_id order by classified.event_seq
    ) as integer) as leg_seq,
    classified.from_order_id,
    classified.to_order_id,
    classified.from_lat,
    classified.from_lon,
    classified.to_lat,
    classified.to_lon,
    classified.depart_s,
    classified.arrive_s,
    classified.duration_s,
    classified.straight_m,
    classified.planning_speed_kmh,
    cast(isodow(classified.service_date) - 1 as integer) as weekday,
    cast(floor(classified.depart_s / 3600) as integer) as depart_hour,
    coalesce(weather.condition, 'unknown') as weather,
    classified.exclusion_reason
from classified
left join weather
    on classified.service_date = weather.service_date
    and floor(classified.depart_s / 3600) = weather.local_hour
