{# The cleaning of GPS fixes shared by the daily file (int_pings_cleaned) and the live drops (int_live_pings):
   CTEs from `deduplicated` to `legs`, over a CTE named `pings` with service_date, vehicle_id, ts_utc, fix_s,
   lat, lon, speed_kmh, heading_deg. See int_pings_cleaned for the rules. #}
{% macro cleaned_pings_ctes(detour_m) -%}
deduplicated as (
    select *
    from pings
    qualify row_number() over (
        partition by service_date, vehicle_id, ts_utc order by lat, lon, speed_kmh, heading_deg
    ) = 1
),

neighbours as (
    select
        *,
        lag(lat) over by_time as prev_lat,
        lag(lon) over by_time as prev_lon,
        epoch_ms(ts_utc) - lag(epoch_ms(ts_utc)) over by_time as from_prev_ms,
        lead(lat) over by_time as next_lat,
        lead(lon) over by_time as next_lon,
        lead(epoch_ms(ts_utc)) over by_time - epoch_ms(ts_utc) as to_next_ms
    from deduplicated
    window by_time as (partition by service_date, vehicle_id order by ts_utc)
),

detours as (
    select
        *,
        {{ haversine_m('prev_lat', 'prev_lon', 'lat', 'lon') }}
            + {{ haversine_m('lat', 'lon', 'next_lat', 'next_lon') }}
            - {{ haversine_m('prev_lat', 'prev_lon', 'next_lat', 'next_lon') }} as detour_m
    from neighbours
),

kept as (
    select service_date, vehicle_id, ts_utc, fix_s, lat, lon, speed_kmh, heading_deg
    from detours
    -- first and last fixes have no detour (null) and always stay
    where not coalesce(detour_m > {{ detour_m }}, false)
),

legs as (
    select
        *,
        row_number() over by_time as fix_seq,
        round(
            coalesce({{ haversine_m('lag(lat) over by_time', 'lag(lon) over by_time', 'lat', 'lon') }}, 0), 2
        ) as leg_m,
        coalesce(fix_s - lag(fix_s) over by_time, 0) as leg_s
    from kept
    window by_time as (partition by service_date, vehicle_id order by ts_utc)
)
{%- endmacro %}

{# cleaned_pings_ctes and the cleaned fix columns selected from them, as int_pings_cleaned and int_live_pings
   output them: to follow the `pings` CTE. #}
{% macro cleaned_pings(detour_m) -%}
{{ cleaned_pings_ctes(detour_m) }}

select
    service_date,
    vehicle_id,
    fix_seq,
    ts_utc,
    fix_s,
    lat,
    lon,
    speed_kmh,
    heading_deg,
    leg_m,
    leg_s
from legs
{%- endmacro %}
