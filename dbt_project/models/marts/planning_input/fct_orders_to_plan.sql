{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_partition_window('service_date') }}",
) }}

-- The solver's input contract: every order to plan, per service date and depot.
select
    {{ orders_to_plan_columns() }}
from {{ ref('int_orders_assigned_to_depots') }}
where {{ in_partition_window('service_date') }}
