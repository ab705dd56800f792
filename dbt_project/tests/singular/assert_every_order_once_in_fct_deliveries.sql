{{ config(tags=['actuals']) }}

-- Every order to plan appears in fct_deliveries exactly once, and nothing else does.
with orders as (
    select service_date, order_id from {{ ref('fct_orders_to_plan') }}
    where {{ in_partition_window('service_date') }}
),

deliveries as (
    select service_date, order_id, count(*) as n_rows from {{ ref('fct_deliveries') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, order_id
)

select
    coalesce(orders.service_date, deliveries.service_date) as service_date,
    coalesce(orders.order_id, deliveries.order_id) as order_id,
    coalesce(deliveries.n_rows, 0) as n_rows
from orders
full outer join deliveries
    on orders.service_date = deliveries.service_date and orders.order_id = deliveries.order_id
where coalesce(deliveries.n_rows, 0) <> 1 or orders.order_id is null
