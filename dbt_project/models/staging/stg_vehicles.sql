with source as (
    select * from {{ source('raw', 'vehicles') }}
),

renamed as (
    select
        service_date,
        vehicle_id,
        depot_id,
        vehicle_type,
        -- Empty = the home depot.
        coalesce(nullif(trim(start_depot_id), ''), depot_id) as start_depot_id,
        coalesce(nullif(trim(end_depot_id), ''), depot_id) as end_depot_id,
        {{ hhmm_to_seconds('shift_start') }} as shift_start_s,
        {{ hhmm_to_seconds('shift_end') }} as shift_end_s,
        string_split(trim(work_days), ' ') as work_days
    from source
)

select * from renamed
