{{ config(tags=['actuals']) }}

with source as (
    select * from {{ source('raw', 'pings') }}
),

renamed as (
    select
        {{ staged_ping_columns() }}
    from source
)

select * from renamed
