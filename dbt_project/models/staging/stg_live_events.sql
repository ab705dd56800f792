{{ config(tags=['live']) }}

{# The raw table's columns, for a warehouse without live drops yet (macro live_source). #}
{% set raw_columns = [
    ('service_date', 'date'), ('event_id', 'varchar'), ('vehicle_id', 'varchar'), ('driver_id', 'varchar'),
    ('order_id', 'varchar'), ('event_type', 'varchar'), ('ts_utc', 'varchar'), ('lat', 'varchar'),
    ('lon', 'varchar'), ('failure_reason', 'varchar'), ('attempt', 'varchar'), ('_source_file', 'varchar'),
    ('_source_row', 'integer')
] %}

with source as (
    select * from {{ live_source('live_events', raw_columns) }}
),

renamed as (
    select
        service_date,
        event_id,
        vehicle_id,
        driver_id,
        nullif(trim(order_id), '') as order_id,
        lower(trim(event_type)) as event_type,
        cast(nullif(ts_utc, '') as timestamptz) as ts_utc,
        {{ iso_to_local_seconds('ts_utc', 'service_date') }} as event_s,
        cast(nullif(lat, '') as double) as lat,
        cast(nullif(lon, '') as double) as lon,
        nullif(lower(trim(failure_reason)), '') as failure_reason,
        cast(nullif(attempt, '') as integer) as attempt,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
