{{ config(tags=['actuals']) }}

-- GPS fixes fit for measuring distance. Three steps, all per vehicle and service date:
-- 1. exact duplicates (same vehicle and fix time) are kept once;
-- 2. fixes are put in time order (the export may be out of order);
-- 3. single-fix outliers are dropped: a fix (not a vehicle's first or last) that makes a detour of more than
--    {{ var('ping_detour_m', 100) }} m, i.e. d(prev, fix) + d(fix, next) - d(prev, next) > that. A speed rule is
--    not enough: with fixes 10-30 s apart, a 100-500 m outlier implies only 12-180 km/h, and summed distance
--    came out up to 5% long; with the detour rule it stays within 1% of the driven distance (simulator tests).
-- Each kept fix carries the leg from the previous kept fix (metres, seconds), which route-day km sum up.
{% set detour_m = var('ping_detour_m', 100) %}

with pings as (
    select * from {{ ref('stg_pings') }}
    where ts_utc is not null and lat is not null and lon is not null
),

{{ cleaned_pings(detour_m) }}
