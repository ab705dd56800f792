{{ config(tags=['actuals']) }}

-- One visit per order attempted on a day, from the driver-app events: arrival = first `arrived`, completion =
-- last `delivered` / `failed`; the outcome is `delivered` if any delivered event exists, else `failed` (an
-- arrival the app never closed counts as a failed attempt without reason). attempt = the highest attempt number
-- recorded, so an order tried twice on the same day shows attempt 2.
with events as (
    select * from {{ ref('stg_stop_events') }}
    where order_id is not null and event_type in ('arrived', 'delivered', 'failed')
),

visits as (
    select
        service_date,
        order_id,
        arg_min(vehicle_id, event_s) as vehicle_id,
        arg_min(driver_id, event_s) as driver_id,
        min(event_s) filter (where event_type = 'arrived') as arrived_s,
        max(event_s) filter (where event_type in ('delivered', 'failed')) as completed_s,
        count_if(event_type = 'delivered') > 0 as was_delivered,
        arg_max(failure_reason, event_s) filter (where event_type = 'failed') as last_failure_reason,
        max(attempt) as attempt
    from events
    group by service_date, order_id
)

select
    service_date,
    order_id,
    vehicle_id,
    driver_id,
    coalesce(arrived_s, completed_s) as arrival_s,
    coalesce(completed_s, arrived_s) as completion_s,
    coalesce(completed_s, arrived_s) - coalesce(arrived_s, completed_s) as on_site_s,
    case when was_delivered then 'delivered' else 'failed' end as outcome,
    case when not was_delivered then last_failure_reason end as failure_reason,
    coalesce(attempt, 1) as attempt
from visits
