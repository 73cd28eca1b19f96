{#
    numerator / denominator as a float on every engine (PostgreSQL would otherwise return
    numeric with 20 decimals, DuckDB a double); null when the denominator is 0 or null.
    Every rate in the marts goes through it.
#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ dbt.type_float() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
