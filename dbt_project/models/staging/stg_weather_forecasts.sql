{{ config(tags=['actuals']) }}

{% set valid_local %}timezone('{{ var("timezone") }}', cast(nullif(valid_at_utc, '') as timestamptz)){% endset %}

with source as (
    select * from {{ source('raw', 'weather_forecasts') }}
),

renamed as (
    select
        service_date as issued_date,
        cast(nullif(issued_at_utc, '') as timestamptz) as issued_at_utc,
        cast(nullif(valid_at_utc, '') as timestamptz) as valid_at_utc,
        cast({{ valid_local }} as date) as valid_date,
        date_diff('second', date_trunc('day', {{ valid_local }}), {{ valid_local }}) as valid_s,
        cast(nullif(temperature_c, '') as double) as temperature_c,
        cast(nullif(precipitation_mm, '') as double) as precipitation_mm,
        cast(nullif(precipitation_probability, '') as double) as precipitation_probability,
        lower(trim(condition)) as condition,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
