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
        {{ staged_stop_event_columns() }}
    from source
)

select * from renamed
