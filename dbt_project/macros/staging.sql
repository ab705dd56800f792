{# Column parsing shared by a daily raw file's staging model and its live drop's (issue 7): the same raw columns
   (all varchar as the CSV loader leaves them) parsed the same way, so a live row and a daily row agree. #}

{# The order columns of raw.orders and raw.order_changes, from customer_id to source_row (stg_orders,
   stg_order_changes). #}
{% macro staged_order_columns() -%}
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
{%- endmacro %}

{# The columns of a stop event, raw.stop_events and raw.live_events (stg_stop_events, stg_live_events). #}
{% macro staged_stop_event_columns() -%}
        service_date,
        event_id,
        vehicle_id,
        driver_id,
        nullif(trim(order_id), '') as order_id,
        lower(trim(event_type)) as event_type,
        cast(nullif(ts_utc, '') as timestamptz) as ts_utc,
        {{ iso_to_local_seconds('ts_utc', 'service_date') }} as event_s,
        cast(nullif(lat, '') as double) as lat,
        cast(nullif(lon, '') as double) as lon,
        nullif(lower(trim(failure_reason)), '') as failure_reason,
        cast(nullif(attempt, '') as integer) as attempt,
        _source_file as source_file,
        _source_row as source_row
{%- endmacro %}

{# The columns of a GPS fix, raw.pings and raw.live_pings (typed already by their loaders): stg_pings has no
   source columns, stg_live_pings adds them after these. #}
{% macro staged_ping_columns() -%}
        service_date,
        vehicle_id,
        ts_utc,
        {{ timestamptz_to_local_seconds('ts_utc', 'service_date') }} as fix_s,
        lat,
        lon,
        speed_kmh,
        heading_deg
{%- endmacro %}

{# The columns of an hourly weather observation, of raw.weather_observations (the day's file) and raw.live_weather
   (the live drops), as text in raw: typed, with the local second and hour it stands for. #}
{% macro staged_weather_observation_columns() -%}
        service_date,
        cast(nullif(observed_at_utc, '') as timestamptz) as observed_at_utc,
        {{ iso_to_local_seconds('observed_at_utc', 'service_date') }} as observed_s,
        cast(floor({{ iso_to_local_seconds('observed_at_utc', 'service_date') }} / 3600) as integer) as local_hour,
        cast(nullif(temperature_c, '') as double) as temperature_c,
        cast(nullif(precipitation_mm, '') as double) as precipitation_mm,
        cast(nullif(wind_kmh, '') as double) as wind_kmh,
        lower(trim(condition)) as condition,
        _source_file as source_file,
        _source_row as source_row
{%- endmacro %}
