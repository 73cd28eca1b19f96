{#
    Every column of the rows of `relation` (aliased `alias`) that match `keys` (a CTE or
    relation with at most one matching row per row of `relation`) on `condition`: the same as
    `select alias.* from relation as alias inner join keys on condition`.
    DuckDB: the rows are found on the columns of the condition first and then fetched by rowid,
    so of the other columns only the vectors holding those rows are read (a join reads every
    column of each block that passes the scan's filters): the changed devices' events among 30M
    staged events took 0.29 s instead of 0.83 s (docs/performance.md). dbt's unit tests put a
    CTE in place of a ref, which has no rowid: those get the join.
#}
{% macro select_joined_rows(relation, alias, keys, condition) -%}
    {{ return(adapter.dispatch('select_joined_rows', 'shoplens')(relation, alias, keys, condition)) }}
{%- endmacro %}

{#- `columns`: what to select of `alias` (DuckDB's version selects the rowids this way). #}
{% macro default__select_joined_rows(relation, alias, keys, condition, columns='*') -%}
    select {{ alias }}.{{ columns }}
    from {{ relation }} as {{ alias }}
    inner join {{ keys }}
        on {{ condition }}
{%- endmacro %}

{% macro duckdb__select_joined_rows(relation, alias, keys, condition) -%}
    {%- if '__dbt__cte__' in (relation | string) -%}
        {{ shoplens.default__select_joined_rows(relation, alias, keys, condition) }}
    {%- else -%}
        select {{ alias }}.*
        from {{ relation }} as {{ alias }}
        where {{ alias }}.rowid in (
            {{ shoplens.default__select_joined_rows(relation, alias, keys, condition, 'rowid') }}
        )
    {%- endif -%}
{%- endmacro %}
