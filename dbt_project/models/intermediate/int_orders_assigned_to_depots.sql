-- Each order goes to the nearest depot with vehicles on its service date (great-circle distance): a depot
-- without any (all in the workshop, none working that weekday) hands its orders to the next-nearest depot that
-- has some. Only when no depot has a vehicle that day does an order stay with its nearest depot, to be reported
-- unassigned as NO_VEHICLE. Windows left empty in the export become the depot's opening hours, and the planned
-- service time comes from the site-type priors. Both ends of a shipment (same shipment_id) go on one route, so
-- they go to one depot: the pickup's (where the load is collected first), whatever depot is nearest the delivery.
with orders as (
    select * from {{ ref('stg_orders') }}
),

depots as (
    select * from {{ ref('stg_depots') }}
),

-- Same rule as marts.fct_vehicle_days: a vehicle of a known type whose working days include the date.
depots_with_vehicles as (
    select distinct
        vehicles.service_date,
        vehicles.depot_id
    from {{ ref('stg_vehicles') }} as vehicles
    inner join {{ ref('stg_vehicle_types') }} as vehicle_types
        on vehicles.service_date = vehicle_types.service_date
        and vehicles.vehicle_type = vehicle_types.vehicle_type
    where list_contains(vehicles.work_days, strftime(vehicles.service_date, '%a'))
),

service_priors as (
    select * from {{ ref('service_time_priors') }}
),

distances as (
    select
        orders.service_date,
        orders.order_id,
        depots.depot_id,
        depots_with_vehicles.depot_id is not null as has_vehicles,
        {{ haversine_m('orders.lat', 'orders.lon', 'depots.lat', 'depots.lon') }} as depot_distance_m
    from orders
    inner join depots on orders.service_date = depots.service_date
    left join depots_with_vehicles
        on depots.service_date = depots_with_vehicles.service_date
        and depots.depot_id = depots_with_vehicles.depot_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by service_date, order_id
            order by has_vehicles desc, depot_distance_m asc, depot_id asc
        ) as preference
    from distances
),

nearest as (
    select
        service_date,
        order_id,
        depot_id
    from ranked
    where preference = 1
),

shipment_depots as (
    select
        orders.service_date,
        orders.shipment_id,
        nearest.depot_id
    from orders
    inner join nearest
        on orders.service_date = nearest.service_date and orders.order_id = nearest.order_id
    where orders.shipment_id is not null and orders.order_type = 'pickup'
),

chosen as (
    select
        orders.service_date,
        orders.order_id,
        coalesce(shipment_depots.depot_id, nearest.depot_id) as depot_id
    from orders
    inner join nearest
        on orders.service_date = nearest.service_date and orders.order_id = nearest.order_id
    left join shipment_depots
        on orders.service_date = shipment_depots.service_date
        and orders.shipment_id = shipment_depots.shipment_id
),

assigned_depot as (
    select
        chosen.service_date,
        chosen.order_id,
        chosen.depot_id,
        distances.depot_distance_m
    from chosen
    inner join distances
        on chosen.service_date = distances.service_date
        and chosen.order_id = distances.order_id
        and chosen.depot_id = distances.depot_id
),

assigned as (
    select
        orders.service_date,
        assigned_depot.depot_id,
        {{ plannable_order_columns('orders', 'depots', 'service_priors') }},
        cast(round(assigned_depot.depot_distance_m) as integer) as depot_distance_m
    from orders
    inner join assigned_depot
        on orders.service_date = assigned_depot.service_date and orders.order_id = assigned_depot.order_id
    inner join depots
        on assigned_depot.service_date = depots.service_date and assigned_depot.depot_id = depots.depot_id
    left join service_priors on orders.site_type = service_priors.site_type
)

select * from assigned
