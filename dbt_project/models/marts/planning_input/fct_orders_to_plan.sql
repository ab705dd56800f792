{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- The solver's input contract: every order to plan, per service date and depot.
select
    service_date,
    depot_id,
    order_id,
    customer_id,
    order_type,
    street,
    postcode,
    town,
    lat,
    lon,
    site_type,
    parcels,
    weight_g,
    volume_cm3,
    service_s,
    tw_start_s,
    tw_end_s,
    is_all_day,
    tw2_start_s,
    tw2_end_s,
    priority,
    unserved_penalty_eur,
    shipment_id,
    required_skills,
    notes,
    depot_distance_m
from {{ ref('int_orders_assigned_to_depots') }}
where {{ in_partition_window('service_date') }}
