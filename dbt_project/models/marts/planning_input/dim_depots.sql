-- Depots as of the latest master-data snapshot loaded.
with ranked as (
    select
        *,
        row_number() over (partition by depot_id order by service_date desc) as recency
    from {{ ref('stg_depots') }}
)

select
    depot_id,
    depot_name,
    street,
    postcode,
    town,
    lat,
    lon,
    opens_s,
    closes_s,
    reload_s,
    timezone,
    service_date as as_of_date
from ranked
where recency = 1
