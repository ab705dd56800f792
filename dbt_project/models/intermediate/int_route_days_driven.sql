{{ config(tags=['actuals']) }}

-- What the telematics say a vehicle drove on a day: km = sum of great-circle legs between consecutive cleaned
-- fixes. Driving time counts the legs covered at walking pace or faster (>= 5 km/h), so a leg that spans a
-- stop (fixes before and after, vehicle standing) is not driving, while a leg over a reporting gap on the road is.
with fixes as (
    select * from {{ ref('int_pings_cleaned') }}
)

select
    service_date,
    vehicle_id,
    count(*) as fixes,
    min(fix_s) as first_fix_s,
    max(fix_s) as last_fix_s,
    round(sum(leg_m) / 1000.0, 3) as actual_km,
    coalesce(sum(leg_s) filter (where leg_s > 0 and leg_m / leg_s * 3.6 >= 5), 0) as driving_s
from fixes
group by service_date, vehicle_id
