{{ config(tags=['live']) }}

with source as (
    select * from {{ source('raw', 'live_pings') }}
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
        heading_deg,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
