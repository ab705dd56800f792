{{ config(tags=['actuals']) }}

with source as (
    select * from {{ source('raw', 'ratings') }}
),

renamed as (
    select
        service_date,
        order_id,
        customer_id,
        cast(nullif(rating, '') as integer) as rating,
        nullif(comment, '') as comment,
        cast(nullif(rated_at_utc, '') as timestamptz) as rated_at_utc,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
