{{ config(tags=['live']) }}

-- Live fixes up to the live state's instant (macro up_to_live_as_of), cleaned exactly as int_pings_cleaned
-- cleans the daily file: duplicates kept once, time order, single-fix outliers (detour over
-- {{ var('ping_detour_m', 100) }} m) dropped. A vehicle's newest kept fix is its last known position.
{% set detour_m = var('ping_detour_m', 100) %}

with pings as (
    select
        service_date,
        vehicle_id,
        ts_utc,
        fix_s,
        lat,
        lon,
        speed_kmh,
        heading_deg
    from {{ ref('stg_live_pings') }}
    where ts_utc is not null and lat is not null and lon is not null and {{ up_to_live_as_of('fix_s') }}
),

{{ cleaned_pings(detour_m) }}
