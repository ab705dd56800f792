{{ config(tags=['actuals']) }}

with source as (
    select * from {{ source('raw', 'weather_observations') }}
),

renamed as (
    select
        {{ staged_weather_observation_columns() }}
    from source
)

select * from renamed
