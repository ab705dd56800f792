{{ config(tags=['live']) }}

-- The orders of the date as they stand at the live state's instant: the morning orders (marts.fct_orders_to_plan,
-- what the plan was made from) plus those placed during the day (`new` changes), each with the status and
-- windows its changes give it. A later change of the same order wins (received_at_utc, then change_id):
-- - status: `cancelled` when the latest of its new / cancel changes is a cancel (a `new` sent again reinstates
--   it); cancelled orders stay, so the app can show them;
-- - windows: those of the latest of its new / window changes (a window change without a second window drops it);
-- - an intraday order goes to the depot a morning order would go to (nearest depot with vehicles on the date;
--   both ends of a shipment to the pickup's), with the site type's service time prior.
with changes as (
    select *
    from {{ ref('stg_order_changes') }}
    where {{ up_to_live_as_of('received_s') }}
),

latest_change as (
    select
        service_date,
        order_id,
        received_at_utc as changed_at_utc
    from changes
    qualify row_number() over (
        partition by service_date, order_id order by received_at_utc desc, change_id desc
    ) = 1
),

latest_status as (
    select
        service_date,
        order_id,
        case when change_type = 'cancel' then 'cancelled' else 'open' end as status
    from changes
    where change_type in ('new', 'cancel')
    qualify row_number() over (
        partition by service_date, order_id order by received_at_utc desc, change_id desc
    ) = 1
),

latest_window as (
    select
        service_date,
        order_id,
        tw_start_s,
        tw_end_s,
        tw2_start_s,
        tw2_end_s
    from changes
    where change_type in ('new', 'window') and tw_start_s is not null
    qualify row_number() over (
        partition by service_date, order_id order by received_at_utc desc, change_id desc
    ) = 1
),

new_orders as (
    select *
    from changes
    where change_type = 'new'
    qualify row_number() over (
        partition by service_date, order_id order by received_at_utc desc, change_id desc
    ) = 1
),

depots as (
    select * from {{ ref('stg_depots') }}
),

depots_with_vehicles as (
    select distinct
        service_date,
        depot_id
    from {{ ref('fct_vehicle_days') }}
),

depot_choice as (
    select
        new_orders.service_date,
        new_orders.order_id,
        new_orders.shipment_id,
        new_orders.order_type,
        depots.depot_id,
        {{ haversine_m('new_orders.lat', 'new_orders.lon', 'depots.lat', 'depots.lon') }} as depot_distance_m
    from new_orders
    inner join depots on new_orders.service_date = depots.service_date
    left join depots_with_vehicles
        on depots.service_date = depots_with_vehicles.service_date
        and depots.depot_id = depots_with_vehicles.depot_id
    qualify row_number() over (
        partition by new_orders.service_date, new_orders.order_id
        order by depots_with_vehicles.depot_id is not null desc, depot_distance_m asc, depots.depot_id asc
    ) = 1
),

shipment_depots as (
    select
        service_date,
        shipment_id,
        depot_id
    from depot_choice
    where shipment_id is not null and order_type = 'pickup'
),

intraday as (
    select
        new_orders.service_date,
        coalesce(shipment_depots.depot_id, depot_choice.depot_id) as depot_id,
        {{ plannable_order_columns('new_orders', 'depots', 'service_priors') }},
        cast(round(depot_choice.depot_distance_m) as integer) as depot_distance_m,
        'intraday' as source
    from new_orders
    inner join depot_choice
        on new_orders.service_date = depot_choice.service_date and new_orders.order_id = depot_choice.order_id
    left join shipment_depots
        on new_orders.service_date = shipment_depots.service_date
        and new_orders.shipment_id = shipment_depots.shipment_id
    inner join depots
        on new_orders.service_date = depots.service_date
        and coalesce(shipment_depots.depot_id, depot_choice.depot_id) = depots.depot_id
    left join {{ ref('service_time_priors') }} as service_priors on new_orders.site_type = service_priors.site_type
),

morning as (
    select
        {{ orders_to_plan_columns() }},
        'morning' as source
    from {{ ref('fct_orders_to_plan') }}
),

all_orders as (
    select * from morning
    union all
    select * from intraday
)

select
    all_orders.service_date,
    all_orders.depot_id,
    all_orders.order_id,
    all_orders.customer_id,
    all_orders.order_type,
    all_orders.street,
    all_orders.postcode,
    all_orders.town,
    all_orders.lat,
    all_orders.lon,
    all_orders.site_type,
    all_orders.parcels,
    all_orders.weight_g,
    all_orders.volume_cm3,
    all_orders.service_s,
    coalesce(latest_window.tw_start_s, all_orders.tw_start_s) as tw_start_s,
    coalesce(latest_window.tw_end_s, all_orders.tw_end_s) as tw_end_s,
    all_orders.is_all_day and latest_window.order_id is null as is_all_day,
    case when latest_window.order_id is null then all_orders.tw2_start_s else latest_window.tw2_start_s end
        as tw2_start_s,
    case when latest_window.order_id is null then all_orders.tw2_end_s else latest_window.tw2_end_s end
        as tw2_end_s,
    all_orders.priority,
    all_orders.unserved_penalty_eur,
    all_orders.shipment_id,
    all_orders.required_skills,
    all_orders.notes,
    all_orders.depot_distance_m,
    coalesce(latest_status.status, 'open') as status,
    all_orders.source,
    latest_change.changed_at_utc
from all_orders
left join latest_window
    on all_orders.service_date = latest_window.service_date and all_orders.order_id = latest_window.order_id
left join latest_status
    on all_orders.service_date = latest_status.service_date and all_orders.order_id = latest_status.order_id
left join latest_change
    on all_orders.service_date = latest_change.service_date and all_orders.order_id = latest_change.order_id
