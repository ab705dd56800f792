{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- The solver's fleet contract: every vehicle whose working days include the service date's weekday.
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
        vehicle_types.skills
    from vehicles
    inner join vehicle_types
        on vehicles.service_date = vehicle_types.service_date
        and vehicles.vehicle_type = vehicle_types.vehicle_type
    where
        list_contains(vehicles.work_days, strftime(vehicles.service_date, '%a'))
        and {{ in_partition_window('vehicles.service_date') }}
)

select * from available
