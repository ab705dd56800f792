{{ config(tags=['actuals'], severity='warn', meta={'dagster': {'ref': {'name': 'fct_travel_observations'}}}) }}

-- The legs of fct_travel_observations account for each vehicle day: one leg into every attempted stop plus one
-- back to the depot per route driven, and driving (sum of legs) plus time on site (waiting included) fills the
-- routes from depot departure to depot return, within 1 s per leg. Warn only: a driver-app event lost on the way
-- (quarantined, or an arrival never closed) breaks the cover without making the day's actuals wrong. Dagster shows
-- it as a check of fct_travel_observations (meta.dagster.ref).
with events as (
    select
        service_date,
        vehicle_id,
        count_if(event_type = 'depot_departure') as routes_driven,
        coalesce(sum(event_s) filter (where event_type = 'depot_return'), 0)
        - coalesce(sum(event_s) filter (where event_type = 'depot_departure'), 0) as route_s
    from {{ ref('stg_stop_events') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, vehicle_id
),

visits as (
    select service_date, vehicle_id, count(*) as stops_attempted, sum(on_site_s) as on_site_s
    from {{ ref('int_stop_visits') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, vehicle_id
),

legs as (
    select service_date, vehicle_id, count(*) as legs, sum(duration_s) as driving_s
    from {{ ref('fct_travel_observations') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, vehicle_id
),

compared as (
    select
        events.service_date,
        events.vehicle_id,
        events.routes_driven,
        coalesce(visits.stops_attempted, 0) as stops_attempted,
        coalesce(legs.legs, 0) as legs,
        events.route_s,
        coalesce(legs.driving_s, 0) as driving_s,
        coalesce(visits.on_site_s, 0) as on_site_s
    from events
    left join visits on events.service_date = visits.service_date and events.vehicle_id = visits.vehicle_id
    left join legs on events.service_date = legs.service_date and events.vehicle_id = legs.vehicle_id
)

select *
from compared
where
    legs <> stops_attempted + routes_driven
    or abs(driving_s + on_site_s - route_s) > legs
