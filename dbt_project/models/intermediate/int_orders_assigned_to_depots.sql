-- Each order goes to the nearest depot open on its service date (great-circle distance); windows left empty in
-- the export become the depot's opening hours, and the planned service time comes from the site-type priors.
with orders as (
    select * from {{ ref('stg_orders') }}
),

depots as (
    select * from {{ ref('stg_depots') }}
),

service_priors as (
    select * from {{ ref('service_time_priors') }}
),

distances as (
    select
        orders.service_date,
        orders.order_id,
        depots.depot_id,
        {{ haversine_m('orders.lat', 'orders.lon', 'depots.lat', 'depots.lon') }} as depot_distance_m
    from orders
    inner join depots on orders.service_date = depots.service_date
),

nearest as (
    select
        service_date,
        order_id,
        arg_min(depot_id, depot_distance_m) as depot_id,
        min(depot_distance_m) as depot_distance_m
    from distances
    group by service_date, order_id
),

assigned as (
    select
        orders.service_date,
        nearest.depot_id,
        orders.order_id,
        orders.customer_id,
        orders.order_type,
        orders.street,
        orders.postcode,
        orders.town,
        orders.lat,
        orders.lon,
        orders.site_type,
        orders.parcels,
        orders.weight_g,
        orders.volume_cm3,
        cast(
            service_priors.base_service_s
            + service_priors.per_extra_parcel_s * greatest(orders.parcels - 1, 0)
            as integer
        ) as service_s,
        coalesce(orders.tw_start_s, depots.opens_s) as tw_start_s,
        coalesce(orders.tw_end_s, depots.closes_s) as tw_end_s,
        orders.tw_start_s is null as is_all_day,
        orders.priority,
        orders.required_skills,
        orders.notes,
        cast(round(nearest.depot_distance_m) as integer) as depot_distance_m
    from orders
    inner join nearest
        on orders.service_date = nearest.service_date and orders.order_id = nearest.order_id
    inner join depots
        on nearest.service_date = depots.service_date and nearest.depot_id = depots.depot_id
    left join service_priors on orders.site_type = service_priors.site_type
)

select * from assigned
