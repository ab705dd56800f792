{# 'HH:MM' local wall-clock text -> seconds since local midnight. #}
{% macro hhmm_to_seconds(column) -%}
    (cast(split_part({{ column }}, ':', 1) as integer) * 3600 + cast(split_part({{ column }}, ':', 2) as integer) * 60)
{%- endmacro %}

{# ISO 8601 timestamp text with offset -> seconds since local midnight of service_date in the operation's zone. #}
{% macro iso_to_local_seconds(column, service_date) -%}
    date_diff(
        'second',
        cast({{ service_date }} as timestamp),
        timezone('{{ var("timezone") }}', cast(nullif({{ column }}, '') as timestamptz))
    )
{%- endmacro %}

{# Great-circle distance in metres between two WGS84 points. #}
{% macro haversine_m(lat1, lon1, lat2, lon2) -%}
    (2 * 6371008.8 * asin(sqrt(
        pow(sin(radians({{ lat2 }} - {{ lat1 }}) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }})) * pow(sin(radians({{ lon2 }} - {{ lon1 }}) / 2), 2)
    )))
{%- endmacro %}
