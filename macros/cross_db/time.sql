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
    {#- A double, as on the other engines (1000000.0 would be a decimal literal in Spark). -#}
    cast(unix_micros({{ end_expr }}) - unix_micros({{ start_expr }}) as double) / 1000000
{%- endmacro %}


{#
    Start of the `seconds`-wide bucket holding a UTC timestamp, aligned on the Unix epoch (UTC).
    For a reporting time zone whose offset is a whole multiple of the bucket (Asia/Shanghai,
    UTC+8, and 10-minute or hourly buckets) these are exactly the reporting zone's buckets.
#}
{% macro time_bucket(ts_expr, seconds) -%}
    {{ return(adapter.dispatch('time_bucket', 'shoplens')(ts_expr, seconds)) }}
{%- endmacro %}

{% macro duckdb__time_bucket(ts_expr, seconds) -%}
    time_bucket(to_seconds({{ seconds }}), {{ ts_expr }}, timestamp '1970-01-01')
{%- endmacro %}

{% macro postgres__time_bucket(ts_expr, seconds) -%}
    date_bin(interval '{{ seconds }} seconds', {{ ts_expr }}, timestamp '1970-01-01')
{%- endmacro %}

{% macro spark__time_bucket(ts_expr, seconds) -%}
    timestamp_seconds(floor(unix_timestamp({{ ts_expr }}) / {{ seconds }}) * {{ seconds }})
{%- endmacro %}


{#
    True when the wall-clock time of `ts_expr` (a timestamp already in the reporting zone) is in
    [start, end), both 'HH:MM' text expressions; the range may wrap past midnight.
#}
{% macro minute_of_day_in(ts_expr, start_expr, end_expr) -%}
    {%- set minute = '(extract(hour from ' ~ ts_expr ~ ') * 60 + extract(minute from ' ~ ts_expr ~ '))' -%}
    {%- set start = '(cast(substring(' ~ start_expr ~ ', 1, 2) as integer) * 60 + cast(substring(' ~ start_expr ~ ', 4, 2) as integer))' -%}
    {%- set stop = '(cast(substring(' ~ end_expr ~ ', 1, 2) as integer) * 60 + cast(substring(' ~ end_expr ~ ', 4, 2) as integer))' -%}
    case
        when {{ start }} <= {{ stop }} then {{ minute }} >= {{ start }} and {{ minute }} < {{ stop }}
        else {{ minute }} >= {{ start }} or {{ minute }} < {{ stop }}
    end
{%- endmacro %}
