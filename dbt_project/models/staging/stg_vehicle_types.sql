with source as (
    select * from {{ source('raw', 'vehicle_types') }}
),

renamed as (
    select
        service_date,
        vehicle_type,
        description,
        cast(round(cast(capacity_kg as double) * 1000) as bigint) as capacity_weight_g,
        cast(round(cast(capacity_l as double) * 1000) as bigint) as capacity_volume_cm3,
        cast(avg_speed_kmh as double) as speed_kmh,
        cast(cost_per_km_eur as double) as cost_per_km_eur,
        cast(cost_per_hour_eur as double) as cost_per_hour_eur,
        cast(cost_per_day_eur as double) as cost_per_day_eur,
        coalesce(trim(skills), '') as skills,
        -- Constraint columns (issue 6); empty = the default: no limit, no reloads, no overtime, no break.
        cast(nullif(trim(capacity_parcels), '') as integer) as capacity_parcels,
        coalesce(cast(nullif(trim(max_reloads), '') as integer), 0) as max_reloads,
        cast(round(cast(nullif(trim(max_route_km), '') as double) * 1000) as bigint) as max_distance_m,
        cast(round(cast(nullif(trim(max_route_hours), '') as double) * 3600) as integer) as max_duration_s,
        coalesce(cast(nullif(trim(max_overtime_min), '') as integer), 0) * 60 as max_overtime_s,
        coalesce(cast(nullif(trim(overtime_cost_per_hour_eur), '') as double), 0) as overtime_cost_per_hour_eur,
        coalesce(cast(nullif(trim(break_min), '') as integer), 0) * 60 as break_s,
        cast(round(cast(nullif(trim(break_after_h), '') as double) * 3600) as integer) as break_after_s
    from source
)

select * from renamed
