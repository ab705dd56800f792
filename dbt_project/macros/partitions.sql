{# Rows of the partition window Dagster asked for (vars min_date / max_date; all dates when absent). #}
{% macro in_partition_window(column) -%}
    {{ column }} between cast('{{ var("min_date") }}' as date) and cast('{{ var("max_date") }}' as date)
{%- endmacro %}

{# Pre-hook for incremental marts: delete the window first, so a re-run replaces those dates (also when a date
   now has no rows at all) and never duplicates them. #}
{% macro delete_partition_window(column='service_date') -%}
    {% if is_incremental() %}
        delete from {{ this }} where {{ in_partition_window(column) }}
    {% else %}
        select 1
    {% endif %}
{%- endmacro %}
