{#
    numerator / denominator as a double-precision float on every engine (PostgreSQL would
    otherwise return numeric with 20 decimals; dbt.type_float() is a 4-byte float on DuckDB);
    null when the denominator is 0 or null. Every rate in the marts goes through it.
#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ shoplens.type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#
    Integer fen -> yuan as numeric(18, 2), exact (spec/events.md: money is integer fen; marts
    expose yuan as decimals). Every yuan column goes through it.
#}
{% macro fen_to_yuan(fen_expr) -%}
    cast(cast({{ fen_expr }} as numeric(18, 2)) / 100 as numeric(18, 2))
{%- endmacro %}
