{{ config(tags=['live']) }}

{# The raw table's columns, for a warehouse without live drops yet (macro live_source). #}
{% set raw_columns = [
    ('service_date', 'date'), ('vehicle_id', 'varchar'), ('ts_utc', 'timestamptz'), ('lat', 'double'),
    ('lon', 'double'), ('speed_kmh', 'double'), ('heading_deg', 'double'), ('_source_file', 'varchar'),
    ('_source_row', 'bigint')
] %}

with source as (
    select * from {{ live_source('live_pings', raw_columns) }}
),

renamed as (
    select
        {{ staged_ping_columns() }},
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
