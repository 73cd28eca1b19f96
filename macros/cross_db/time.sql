{#
    Time handling, one dispatched macro per engine-specific operation.
    Convention: `*_at` columns are UTC timestamps without time zone; `*_date` columns are
    calendar dates in the reporting time zone (var `reporting_timezone`).
#}

{# Milliseconds since the Unix epoch -> UTC timestamp. #}
{% macro epoch_ms_to_timestamp(ms_expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'shoplens')(ms_expr)) }}
{%- endmacro %}

{% macro duckdb__epoch_ms_to_timestamp(ms_expr) -%}
    epoch_ms(cast({{ ms_expr }} as bigint))
{%- endmacro %}

{% macro postgres__epoch_ms_to_timestamp(ms_expr) -%}
    (to_timestamp({{ ms_expr }} / 1000.0) at time zone 'UTC')
{%- endmacro %}

{% macro spark__epoch_ms_to_timestamp(ms_expr) -%}
    timestamp_millis(cast({{ ms_expr }} as bigint))
{%- endmacro %}


{# UTC timestamp -> wall-clock timestamp in the reporting time zone. #}
{% macro to_reporting_timestamp(ts_expr) -%}
    {{ return(adapter.dispatch('to_reporting_timestamp', 'shoplens')(ts_expr)) }}
{%- endmacro %}

{% macro duckdb__to_reporting_timestamp(ts_expr) -%}
    timezone('{{ var("reporting_timezone") }}', timezone('UTC', {{ ts_expr }}))
{%- endmacro %}

{% macro postgres__to_reporting_timestamp(ts_expr) -%}
    (({{ ts_expr }} at time zone 'UTC') at time zone '{{ var("reporting_timezone") }}')
{%- endmacro %}

{% macro spark__to_reporting_timestamp(ts_expr) -%}
    from_utc_timestamp({{ ts_expr }}, '{{ var("reporting_timezone") }}')
{%- endmacro %}


{# UTC timestamp -> reporting-zone calendar date. #}
{% macro to_reporting_date(ts_expr) -%}
    cast({{ shoplens.to_reporting_timestamp(ts_expr) }} as date)
{%- endmacro %}


{# Seconds from `start_expr` to `end_expr` (UTC timestamps), with fractions. #}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('seconds_between', 'shoplens')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(start_expr, end_expr) -%}
    (epoch_us({{ end_expr }}) - epoch_us({{ start_expr }})) / 1000000.0
{%- endmacro %}

{% macro postgres__seconds_between(start_expr, end_expr) -%}
    cast(extract(epoch from ({{ end_expr }} - {{ start_expr }})) as double precision)
{%- endmacro %}

{% macro spark__seconds_between(start_expr, end_expr) -%}
    (unix_micros({{ end_expr }}) - unix_micros({{ start_expr }})) / 1000000.0
{%- endmacro %}
