{{ config(tags=['live']) }}

{# The raw table's columns, for a warehouse without live drops yet (macro live_source). #}
{% set raw_columns = [
    ('service_date', 'date'), ('observed_at_utc', 'varchar'), ('temperature_c', 'varchar'),
    ('precipitation_mm', 'varchar'), ('wind_kmh', 'varchar'), ('condition', 'varchar'),
    ('_source_file', 'varchar'), ('_source_row', 'integer')
] %}

with source as (
    select * from {{ live_source('live_weather', raw_columns) }}
),

renamed as (
    select
        {{ staged_weather_observation_columns() }}
    from source
)

select * from renamed
