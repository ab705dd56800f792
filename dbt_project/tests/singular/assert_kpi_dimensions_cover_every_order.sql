{{ config(tags=['actuals']) }}

-- Each dimension of fct_delivery_kpis cuts a depot's orders without losing or double-counting one: per date,
-- depot and dimension, orders add up to the depot's orders in fct_deliveries.
with kpis as (
    select service_date, depot_id, dimension, sum(orders) as orders
    from {{ ref('fct_delivery_kpis') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, depot_id, dimension
),

deliveries as (
    select service_date, depot_id, count(*) as orders
    from {{ ref('fct_deliveries') }}
    where {{ in_partition_window('service_date') }}
    group by service_date, depot_id
)

select kpis.*, deliveries.orders as depot_orders
from kpis
left join deliveries on kpis.service_date = deliveries.service_date and kpis.depot_id = deliveries.depot_id
where deliveries.orders is distinct from kpis.orders
