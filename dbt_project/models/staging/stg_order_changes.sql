{{ config(tags=['live']) }}

{# The raw table's columns, for a warehouse without live drops yet (macro live_source). #}
{% set raw_columns = [
    ('service_date', 'date'), ('change_id', 'varchar'), ('order_id', 'varchar'), ('change_type', 'varchar'),
    ('received_at_utc', 'varchar'), ('customer_id', 'varchar'), ('order_type', 'varchar'), ('street', 'varchar'),
    ('postcode', 'varchar'), ('town', 'varchar'), ('lat', 'varchar'), ('lon', 'varchar'),
    ('site_type', 'varchar'), ('parcels', 'varchar'), ('weight_kg', 'varchar'), ('volume_l', 'varchar'),
    ('window_start', 'varchar'), ('window_end', 'varchar'), ('window2_start', 'varchar'), ('window2_end', 'varchar'),
    ('priority', 'varchar'), ('shipment_id', 'varchar'), ('unserved_penalty_eur', 'varchar'), ('required_skills', 'varchar'),
    ('notes', 'varchar'), ('created_at_utc', 'varchar'), ('_source_file', 'varchar'), ('_source_row', 'integer')
] %}

with source as (
    select * from {{ live_source('order_changes', raw_columns) }}
),

renamed as (
    select
        service_date,
        change_id,
        order_id,
        lower(trim(change_type)) as change_type,
        cast(received_at_utc as timestamptz) as received_at_utc,
        {{ iso_to_local_seconds('received_at_utc', 'service_date') }} as received_s,
        customer_id,
        lower(trim(order_type)) as order_type,
        street,
        postcode,
        town,
        cast(lat as double) as lat,
        cast(lon as double) as lon,
        lower(trim(site_type)) as site_type,
        cast(parcels as integer) as parcels,
        cast(round(cast(weight_kg as double) * 1000) as bigint) as weight_g,
        cast(round(cast(volume_l as double) * 1000) as bigint) as volume_cm3,
        {{ iso_to_local_seconds('window_start', 'service_date') }} as tw_start_s,
        {{ iso_to_local_seconds('window_end', 'service_date') }} as tw_end_s,
        {{ iso_to_local_seconds('window2_start', 'service_date') }} as tw2_start_s,
        {{ iso_to_local_seconds('window2_end', 'service_date') }} as tw2_end_s,
        coalesce(nullif(lower(trim(priority)), ''), 'normal') as priority,
        nullif(trim(shipment_id), '') as shipment_id,
        cast(nullif(trim(unserved_penalty_eur), '') as double) as unserved_penalty_eur,
        coalesce(trim(required_skills), '') as required_skills,
        coalesce(notes, '') as notes,
        cast(nullif(created_at_utc, '') as timestamptz) as created_at_utc,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
