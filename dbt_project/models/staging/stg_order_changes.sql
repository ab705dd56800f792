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
        {{ staged_order_columns() }}
    from source
)

select * from renamed
