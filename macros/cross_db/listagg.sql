{#
    dbt's listagg() on Spark, overridden in this project (dispatch looks here first): dbt-spark's
    own ignores the order and warns, so the text would depend on how Spark happened to collect
    the rows. Ordering by the aggregated value itself ('order by <measure>' [asc|desc]) is
    supported through array_sort; any other order is refused at compile time.
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- if order_by_clause -%}
        {%- set order = order_by_clause | trim | lower -%}
        {%- if order in ['order by ' ~ measure, 'order by ' ~ measure ~ ' asc'] -%}
            {%- set collected = 'array_sort(' ~ collected ~ ')' -%}
        {%- elif order == 'order by ' ~ measure ~ ' desc' -%}
            {%- set collected = 'reverse(array_sort(' ~ collected ~ '))' -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "listagg on Spark orders only by the aggregated value, not: " ~ order_by_clause
            ) }}
        {%- endif -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}
