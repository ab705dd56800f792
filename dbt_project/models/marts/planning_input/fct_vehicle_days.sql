{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- The solver's fleet contract: every vehicle whose working days include the service date's weekday.
-- Break rule: a vehicle type with break_s > 0 gives a shift longer than break_after_s + 1 h a break whose start
-- window opens break_after_s after the shift start and closes 2 h later (never later than the shift's end minus
-- the break); a shorter shift, or a type without a break, has none (break_s 0, window null).
with vehicles as (
    select * from {{ ref('stg_vehicles') }}
),

vehicle_types as (
    select * from {{ ref('stg_vehicle_types') }}
),

available as (
    select
        vehicles.service_date,
        vehicles.depot_id,
        vehicles.vehicle_id,
        vehicles.vehicle_type,
        vehicle_types.capacity_weight_g,
        vehicle_types.capacity_volume_cm3,
        vehicles.shift_start_s,
        vehicles.shift_end_s,
        vehicle_types.speed_kmh,
        vehicle_types.cost_per_km_eur,
        vehicle_types.cost_per_hour_eur,
        vehicle_types.cost_per_day_eur,
        vehicle_types.skills,
        vehicle_types.capacity_parcels,
        vehicles.start_depot_id,
        vehicles.end_depot_id,
        vehicle_types.max_duration_s,
        vehicle_types.max_distance_m,
        vehicle_types.max_overtime_s,
        vehicle_types.overtime_cost_per_hour_eur,
        vehicle_types.break_s > 0
        and vehicles.shift_end_s - vehicles.shift_start_s > vehicle_types.break_after_s + 3600 as has_break,
        vehicle_types.break_s,
        vehicles.shift_start_s + vehicle_types.break_after_s as break_opens_s,
        vehicle_types.max_reloads
    from vehicles
    inner join vehicle_types
        on vehicles.service_date = vehicle_types.service_date
        and vehicles.vehicle_type = vehicle_types.vehicle_type
    where
        list_contains(vehicles.work_days, strftime(vehicles.service_date, '%a'))
        and {{ in_partition_window('vehicles.service_date') }}
)

select
    service_date,
    depot_id,
    vehicle_id,
    vehicle_type,
    capacity_weight_g,
    capacity_volume_cm3,
    shift_start_s,
    shift_end_s,
    speed_kmh,
    cost_per_km_eur,
    cost_per_hour_eur,
    cost_per_day_eur,
    skills,
    capacity_parcels,
    start_depot_id,
    end_depot_id,
    max_duration_s,
    max_distance_m,
    max_overtime_s,
    overtime_cost_per_hour_eur,
    case when has_break then break_s else 0 end as break_s,
    case when has_break then break_opens_s end as break_earliest_s,
    case when has_break then greatest(break_opens_s, least(break_opens_s + 7200, shift_end_s - break_s)) end
        as break_latest_s,
    max_reloads
from available
