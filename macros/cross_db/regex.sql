{#
    `expr` matches the regular expression `pattern` (a SQL string literal) anywhere in it.
    Patterns stay within what every engine's dialect shares (RE2 / POSIX ERE / Java): character
    classes, anchors, `?`, `{n}`, groups and alternation.
#}
{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'shoplens')(expr, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_matches(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_matches(expr, pattern) -%}
    ({{ expr }} ~ {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(expr, pattern) -%}
    ({{ expr }} rlike {{ pattern }})
{%- endmacro %}
