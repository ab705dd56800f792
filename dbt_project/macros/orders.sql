{# The columns of an order to plan (the solver's input contract, marts.fct_orders_to_plan), from service_date to
   depot_distance_m: selected as they are by fct_orders_to_plan and by int_live_orders for the morning orders. #}
{% macro orders_to_plan_columns() -%}
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
{%- endmacro %}

{# An order made plannable once its depot is known, from order_id to notes: the staged order's columns
   (relation `orders`), its service time prior (relation `service_priors`, seed service_time_priors) and its
   window, the depot's opening hours (relation `depots`) when it has none (all day). Shared by the morning
   orders (int_orders_assigned_to_depots) and the intraday ones (int_live_orders). #}
{% macro plannable_order_columns(orders, depots, service_priors) -%}
        {{ orders }}.order_id,
        {{ orders }}.customer_id,
        {{ orders }}.order_type,
        {{ orders }}.street,
        {{ orders }}.postcode,
        {{ orders }}.town,
        {{ orders }}.lat,
        {{ orders }}.lon,
        {{ orders }}.site_type,
        {{ orders }}.parcels,
        {{ orders }}.weight_g,
        {{ orders }}.volume_cm3,
        cast(
            {{ service_priors }}.base_service_s
            + {{ service_priors }}.per_extra_parcel_s * greatest({{ orders }}.parcels - 1, 0)
            as integer
        ) as service_s,
        coalesce({{ orders }}.tw_start_s, {{ depots }}.opens_s) as tw_start_s,
        coalesce({{ orders }}.tw_end_s, {{ depots }}.closes_s) as tw_end_s,
        {{ orders }}.tw_start_s is null as is_all_day,
        {{ orders }}.tw2_start_s,
        {{ orders }}.tw2_end_s,
        {{ orders }}.priority,
        {{ orders }}.unserved_penalty_eur,
        {{ orders }}.shipment_id,
        {{ orders }}.required_skills,
        {{ orders }}.notes
{%- endmacro %}
