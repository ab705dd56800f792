{{ config(tags=['actuals']) }}

-- One observed weather condition per service date and local hour: the hour's first observation, should a clock
-- change give an hour two.
select
    service_date,
    local_hour,
    arg_min(condition, observed_at_utc) as condition
from {{ ref('stg_weather_observations') }}
group by service_date, local_hour
