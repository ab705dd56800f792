{{ config(tags=['actuals']) }}

with source as (
    select * from {{ source('raw', 'stop_events') }}
),

renamed as (
    select
        {{ staged_stop_event_columns() }}
    from source
)

select * from renamed
