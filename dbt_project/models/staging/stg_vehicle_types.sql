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
        coalesce(trim(skills), '') as skills
    from source
)

select * from renamed
