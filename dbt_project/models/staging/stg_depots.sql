with source as (
    select * from {{ source('raw', 'depots') }}
),

renamed as (
    select
        service_date,
        depot_id,
        name as depot_name,
        street,
        postcode,
        town,
        cast(lat as double) as lat,
        cast(lon as double) as lon,
        {{ hhmm_to_seconds('opens') }} as opens_s,
        {{ hhmm_to_seconds('closes') }} as closes_s,
        coalesce(cast(nullif(trim(reload_min), '') as integer), 0) * 60 as reload_s,
        timezone
    from source
)

select * from renamed
