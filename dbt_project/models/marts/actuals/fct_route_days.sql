{{ config(
    tags=['actuals'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- Plan against execution per vehicle-day. Actual start / end = depot departure / return events (else the first /
-- last event, else the first / last GPS fix). Hours: driving from the telematics (legs at >= 5 km/h), service =
-- time on site at the stops, idle = the rest of the route (waiting, breaks, loading), never below 0.
-- Cost: the one route cost model (macro route_cost_eur, solver/costs.py) with the vehicle type's rates, planned
-- on the plan's metres, seconds and overtime, actual on the driven km, route seconds and the return after the
-- shift's end, plus failed attempts x cost_model.failed_attempt_eur; a vehicle that did not go out costs nothing.
with planned_routes as (
    select * from {{ ref('fct_planned_routes') }}
    where {{ in_partition_window('service_date') }}
),

driven as (
    select * from {{ ref('int_route_days_driven') }}
    where {{ in_partition_window('service_date') }}
),

vehicle_events as (
    select
        service_date,
        vehicle_id,
        arg_min(driver_id, event_s) as driver_id,
        min(event_s) filter (where event_type = 'depot_departure') as departed_s,
        max(event_s) filter (where event_type = 'depot_return') as returned_s,
        min(event_s) as first_event_s,
        max(event_s) as last_event_s
    from {{ ref('stg_stop_events') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, vehicle_id
),

visits as (
    select
        service_date,
        vehicle_id,
        count(*) as stops_attempted,
        count_if(outcome = 'delivered') as delivered,
        count_if(outcome = 'failed') as failed,
        sum(on_site_s) as service_s
    from {{ ref('int_stop_visits') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, vehicle_id
),

-- Every vehicle of the master-data snapshot with its type's rates: the rates fct_vehicle_days hands the solver,
-- also for a vehicle that drove on a day it was not scheduled.
fleet as (
    select
        vehicles.service_date,
        vehicles.vehicle_id,
        vehicles.depot_id,
        vehicles.vehicle_type,
        vehicles.shift_start_s,
        vehicles.shift_end_s,
        vehicle_types.cost_per_km_eur,
        vehicle_types.cost_per_hour_eur,
        vehicle_types.cost_per_day_eur,
        vehicle_types.overtime_cost_per_hour_eur
    from {{ ref('stg_vehicles') }} as vehicles
    inner join {{ ref('stg_vehicle_types') }} as vehicle_types
        on vehicles.service_date = vehicle_types.service_date
        and vehicles.vehicle_type = vehicle_types.vehicle_type
    where {{ in_partition_window('vehicles.service_date') }}
),

cost_model as (
    select failed_attempt_eur from {{ ref('cost_model') }}
),

vehicle_days as (
    select service_date, vehicle_id from planned_routes
    union
    select service_date, vehicle_id from driven
    union
    select service_date, vehicle_id from vehicle_events
),

joined as (
    select
        vehicle_days.service_date,
        coalesce(fleet.depot_id, planned_routes.depot_id) as depot_id,
        vehicle_days.vehicle_id,
        coalesce(fleet.vehicle_type, planned_routes.vehicle_type) as vehicle_type,
        vehicle_events.driver_id,
        planned_routes.route_id,
        planned_routes.distance_m as planned_distance_m,
        planned_routes.duration_s as planned_duration_s,
        planned_routes.start_s as planned_start_s,
        planned_routes.end_s as planned_end_s,
        planned_routes.n_stops,
        planned_routes.overtime_s as planned_overtime_s,
        coalesce(vehicle_events.departed_s, vehicle_events.first_event_s, driven.first_fix_s) as actual_start_s,
        coalesce(vehicle_events.returned_s, vehicle_events.last_event_s, driven.last_fix_s) as actual_end_s,
        driven.actual_km,
        coalesce(driven.driving_s, 0) as driving_s,
        coalesce(visits.service_s, 0) as service_s,
        coalesce(visits.stops_attempted, 0) as stops_attempted,
        coalesce(visits.delivered, 0) as delivered,
        coalesce(visits.failed, 0) as failed,
        fleet.shift_start_s,
        fleet.shift_end_s,
        fleet.cost_per_km_eur,
        fleet.cost_per_hour_eur,
        fleet.cost_per_day_eur,
        fleet.overtime_cost_per_hour_eur
    from vehicle_days
    left join planned_routes
        on vehicle_days.service_date = planned_routes.service_date
        and vehicle_days.vehicle_id = planned_routes.vehicle_id
    left join driven
        on vehicle_days.service_date = driven.service_date and vehicle_days.vehicle_id = driven.vehicle_id
    left join vehicle_events
        on vehicle_days.service_date = vehicle_events.service_date
        and vehicle_days.vehicle_id = vehicle_events.vehicle_id
    left join visits
        on vehicle_days.service_date = visits.service_date and vehicle_days.vehicle_id = visits.vehicle_id
    left join fleet
        on vehicle_days.service_date = fleet.service_date and vehicle_days.vehicle_id = fleet.vehicle_id
)

select
    joined.service_date,
    joined.depot_id,
    joined.vehicle_id,
    joined.vehicle_type,
    joined.driver_id,
    joined.route_id,
    joined.planned_distance_m / 1000.0 as planned_km,
    joined.actual_km,
    joined.planned_start_s,
    joined.planned_end_s,
    joined.actual_start_s,
    joined.actual_end_s,
    (joined.actual_start_s - joined.planned_start_s) / 60.0 as departure_delay_min,
    joined.driving_s / 3600.0 as driving_h,
    joined.service_s / 3600.0 as service_h,
    -- greatest() skips nulls in DuckDB: a vehicle that never went out idles 0 h
    greatest(joined.actual_end_s - joined.actual_start_s - joined.driving_s - joined.service_s, 0) / 3600.0
        as idle_h,
    (joined.shift_end_s - joined.shift_start_s) / 3600.0 as shift_h,
    cast(coalesce(joined.n_stops, 0) as integer) as stops_planned,
    cast(joined.stops_attempted as integer) as stops_attempted,
    cast(joined.delivered as integer) as delivered,
    cast(joined.failed as integer) as failed,
    case when joined.route_id is not null then
        {{ route_cost_eur('joined.planned_distance_m', 'joined.planned_duration_s', 'joined.cost_per_km_eur',
                          'joined.cost_per_hour_eur', 'joined.cost_per_day_eur', 'joined.planned_overtime_s',
                          'joined.overtime_cost_per_hour_eur') }}
    end as planned_cost_eur,
    case
        when joined.actual_start_s is null then 0.0
        else
            {{ route_cost_eur('coalesce(joined.actual_km, 0) * 1000', 'joined.actual_end_s - joined.actual_start_s',
                              'joined.cost_per_km_eur', 'joined.cost_per_hour_eur', 'joined.cost_per_day_eur',
                              'greatest(joined.actual_end_s - joined.shift_end_s, 0)',
                              'joined.overtime_cost_per_hour_eur') }}
            + joined.failed * cost_model.failed_attempt_eur
    end as actual_cost_eur
from joined
cross join cost_model
