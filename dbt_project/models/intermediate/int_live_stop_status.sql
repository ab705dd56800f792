{{ config(tags=['live']) }}

-- Where each order stands by the driver app, up to the live state's instant: the latest of its arrived /
-- delivered / failed events decides (a failed order the driver comes back to is `arrived` again).
with events as (
    select *
    from {{ ref('stg_live_events') }}
    where
        order_id is not null
        and event_type in ('arrived', 'delivered', 'failed')
        and {{ up_to_live_as_of('event_s') }}
),

latest as (
    select *
    from events
    qualify row_number() over (
        partition by service_date, order_id order by ts_utc desc, source_file desc, source_row desc
    ) = 1
),

per_order as (
    select
        service_date,
        order_id,
        count(*) filter (where event_type in ('delivered', 'failed')) as attempts,
        max(event_s) filter (where event_type = 'arrived') as arrived_s,
        arg_max(failure_reason, ts_utc) filter (where event_type = 'failed') as last_failure_reason
    from events
    group by service_date, order_id
)

select
    latest.service_date,
    latest.order_id,
    latest.vehicle_id,
    latest.event_type as status,
    latest.ts_utc as status_at_utc,
    latest.event_s as status_s,
    per_order.arrived_s,
    case when latest.event_type = 'failed' then per_order.last_failure_reason end as failure_reason,
    per_order.attempts
from latest
inner join per_order
    on latest.service_date = per_order.service_date and latest.order_id = per_order.order_id
