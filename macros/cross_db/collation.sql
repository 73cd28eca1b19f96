{#
    An expression that sorts text byte by byte, the same on every engine: DuckDB and Spark
    compare strings by bytes, PostgreSQL by the database's locale unless told otherwise. Used
    where an order decides a result (tie-breaks of rankings).
#}
{% macro bytewise(expr) -%}
    {{ return(adapter.dispatch('bytewise', 'shoplens')(expr)) }}
{%- endmacro %}

{% macro default__bytewise(expr) -%}
    {{ expr }}
{%- endmacro %}

{% macro postgres__bytewise(expr) -%}
    {{ expr }} collate "C"
{%- endmacro %}
