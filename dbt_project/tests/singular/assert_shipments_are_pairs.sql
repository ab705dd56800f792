-- Every shipment of a service date is exactly one pickup and one delivery, planned from the same depot (landing
-- quarantines a lone end; int_orders_assigned_to_depots sends both ends to the pickup's depot).
select
    service_date,
    shipment_id,
    count(*) as ends,
    count(*) filter (where order_type = 'pickup') as pickups,
    count(distinct depot_id) as depots
from {{ ref('fct_orders_to_plan') }}
where shipment_id is not null and {{ in_partition_window('service_date') }}
group by service_date, shipment_id
having count(*) <> 2 or count(*) filter (where order_type = 'pickup') <> 1 or count(distinct depot_id) <> 1
