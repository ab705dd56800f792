{{ config(tags=['actuals']) }}

with source as (
    select * from {{ source('raw', 'weather_observations') }}
),

renamed as (
    select
        service_date,
        cast(nullif(observed_at_utc, '') as timestamptz) as observed_at_utc,
        {{ iso_to_local_seconds('observed_at_utc', 'service_date') }} as observed_s,
        cast(floor({{ iso_to_local_seconds('observed_at_utc', 'service_date') }} / 3600) as integer) as local_hour,
        cast(nullif(temperature_c, '') as double) as temperature_c,
        cast(nullif(precipitation_mm, '') as double) as precipitation_mm,
        cast(nullif(wind_kmh, '') as double) as wind_kmh,
        lower(trim(condition)) as condition,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
