with source as (
    select * from {{ source('raw', 'orders') }}
),

renamed as (
    select
        service_date,
        order_id,
        {{ staged_order_columns() }}
    from source
)

select * from renamed
