{{ config(tags=['live']) }}

-- Every vehicle of the date's fleet (marts.fct_vehicle_days) as the live data shows it up to the live state's
-- instant: its last kept fix, whether and when it left its depot (each departure starts a trip), broke down or came
-- back, its newest event and how many stops it delivered or failed. A vehicle without live data has nulls and zero
-- counts.
with fleet as (
    select
        service_date,
        depot_id,
        vehicle_id
    from {{ ref('fct_vehicle_days') }}
),

last_fix as (
    select
        service_date,
        vehicle_id,
        arg_max(lat, fix_seq) as lat,
        arg_max(lon, fix_seq) as lon,
        max(ts_utc) as fix_at_utc,
        max(fix_s) as fix_s
    from {{ ref('int_live_pings') }}
    group by service_date, vehicle_id
),

events as (
    select *
    from {{ ref('stg_live_events') }}
    where {{ up_to_live_as_of('event_s') }}
),

per_vehicle as (
    select
        service_date,
        vehicle_id,
        min(ts_utc) filter (where event_type = 'depot_departure') as departed_at_utc,
        min(event_s) filter (where event_type = 'depot_departure') as departed_s,
        max(event_s) filter (where event_type = 'depot_departure') as last_departure_s,
        list(event_s order by event_s) filter (where event_type = 'depot_departure') as departures_s,
        max(event_s) filter (where event_type = 'depot_return') as last_return_s,
        min(ts_utc) filter (where event_type = 'breakdown') as broken_down_at_utc,
        min(event_s) filter (where event_type = 'breakdown') as broken_down_s,
        arg_max(event_type, ts_utc) as last_event_type,
        max(event_s) as last_event_s,
        arg_max(lat, ts_utc) filter (where lat is not null) as last_event_lat,
        arg_max(lon, ts_utc) filter (where lat is not null) as last_event_lon
    from events
    group by service_date, vehicle_id
),

stop_counts as (
    select
        service_date,
        vehicle_id,
        count(*) filter (where status = 'delivered') as delivered_stops,
        count(*) filter (where status = 'failed') as failed_stops
    from {{ ref('int_live_stop_status') }}
    group by service_date, vehicle_id
)

select
    fleet.service_date,
    fleet.depot_id,
    fleet.vehicle_id,
    last_fix.lat,
    last_fix.lon,
    last_fix.fix_at_utc,
    last_fix.fix_s,
    per_vehicle.departed_at_utc is not null as departed,
    per_vehicle.departed_at_utc,
    per_vehicle.departed_s,
    per_vehicle.last_departure_s,
    per_vehicle.departures_s,
    per_vehicle.last_return_s,
    per_vehicle.broken_down_at_utc,
    per_vehicle.broken_down_s,
    per_vehicle.last_event_type,
    per_vehicle.last_event_s,
    per_vehicle.last_event_lat,
    per_vehicle.last_event_lon,
    coalesce(stop_counts.delivered_stops, 0) as delivered_stops,
    coalesce(stop_counts.failed_stops, 0) as failed_stops
from fleet
left join last_fix
    on fleet.service_date = last_fix.service_date and fleet.vehicle_id = last_fix.vehicle_id
left join per_vehicle
    on fleet.service_date = per_vehicle.service_date and fleet.vehicle_id = per_vehicle.vehicle_id
left join stop_counts
    on fleet.service_date = stop_counts.service_date and fleet.vehicle_id = stop_counts.vehicle_id
