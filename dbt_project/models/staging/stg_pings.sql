{{ config(tags=['actuals']) }}

with source as (
    select * from {{ source('raw', 'pings') }}
),

renamed as (
    select
        service_date,
        vehicle_id,
        ts_utc,
        {{ timestamptz_to_local_seconds('ts_utc', 'service_date') }} as fix_s,
        lat,
        lon,
        speed_kmh,
        heading_deg
    from source
)

select * from renamed
