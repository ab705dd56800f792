{# Live models (tag live) show the day up to an instant: the DuckDB session variable `live_as_of_s` (seconds
   since local midnight, set by the live_state asset with SET VARIABLE) when it is set, else everything. #}
{% macro up_to_live_as_of(column) -%}
    {{ column }} <= coalesce(getvariable('live_as_of_s'), {{ column }})
{%- endmacro %}

{# A raw live table (issue 7) the Python live flow creates (ensure_live_raw_schema): a warehouse that never loaded
   live drops has none, and the live staging views then read an empty relation with `columns` ((name, type)
   pairs), so any dbt build succeeds. Views built before the first live load stay empty: dbt_live runs after
   raw_live, which creates the tables. #}
{% macro live_source(table_name, columns) -%}
    {%- set relation = source('raw', table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (select
            {%- for name, type in columns %} cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}{% endfor %}
        where false)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
