{{ config(
    tags=['actuals'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- Driven paths for maps: the cleaned fixes thinned to at most one per vehicle and minute, so a year of history
-- stays small in the serving snapshot while the path still follows the streets driven.
with fixes as (
    select * from {{ ref('int_pings_cleaned') }}
    where {{ in_partition_window('service_date') }}
),

vehicles as (
    select service_date, vehicle_id, depot_id from {{ ref('stg_vehicles') }}
),

thinned as (
    select *
    from fixes
    qualify row_number() over (
        partition by service_date, vehicle_id, floor(fix_s / 60) order by ts_utc
    ) = 1
)

select
    thinned.service_date,
    vehicles.depot_id,
    thinned.vehicle_id,
    cast(row_number() over (partition by thinned.service_date, thinned.vehicle_id order by thinned.ts_utc) as integer)
        as seq,
    thinned.ts_utc,
    thinned.lat,
    thinned.lon
from thinned
left join vehicles
    on thinned.service_date = vehicles.service_date and thinned.vehicle_id = vehicles.vehicle_id
