{# A UTC instant (timestamptz) -> seconds since local midnight of service_date in the operation's zone,
   with the fraction of a second kept (telematics fixes). #}
{% macro timestamptz_to_local_seconds(column, service_date) -%}
    (date_diff(
        'millisecond',
        cast({{ service_date }} as timestamp),
        timezone('{{ var("timezone") }}', {{ column }})
    ) / 1000.0)
{%- endmacro %}
