{#
    A pre-hook for models that chain many aggregated CTEs (int_funnel_steps_reached): the
    PostgreSQL planner under-estimates each link to one row and picks nested loops that turn
    quadratic (minutes on the demo data). `set local` keeps the setting to the model's own
    transaction. Other engines need nothing.
#}
{% macro prefer_hash_joins() -%}
    {{ return(adapter.dispatch('prefer_hash_joins', 'shoplens')()) }}
{%- endmacro %}

{% macro default__prefer_hash_joins() -%}
{%- endmacro %}

{% macro postgres__prefer_hash_joins() -%}
    set local enable_nestloop = off
{%- endmacro %}
