{# The one route cost model, shared by planned and actual cost (solver/costs.py):
   km x cost per km + hours on route x cost per hour + hours of overtime x overtime premium + cost per day of a
   used vehicle, in EUR. The rates are first turned into the solver's integer micro-euro rates (per metre, per
   second, per day), so a planned route costs exactly what plans.routes.cost_eur says, not just nearly. #}
{% macro route_cost_eur(distance_m, duration_s, cost_per_km_eur, cost_per_hour_eur, cost_per_day_eur,
                        overtime_s='0', overtime_cost_per_hour_eur='0') -%}
    (
        ({{ distance_m }}) * round({{ cost_per_km_eur }} * 1000)
        + ({{ duration_s }}) * round({{ cost_per_hour_eur }} * 1000000 / 3600)
        + coalesce({{ overtime_s }}, 0) * round(coalesce({{ overtime_cost_per_hour_eur }}, 0) * 1000000 / 3600)
        + round({{ cost_per_day_eur }} * 1000000)
    ) / 1000000.0
{%- endmacro %}
