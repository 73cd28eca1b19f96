{#
    Post-hook of an incremental model: deletes the rows whose key no longer exists upstream
    (a session a late event merged away, an event excluded by a late consent withdrawal). With
    `not exists`, not `not in (subquery)`, which PostgreSQL runs row by row once the subquery
    outgrows work_mem. `upstream` is a relation or a parenthesised query. Shared by
    int_events_sessionized, fct_sessions and fct_page_views.
#}
{% macro delete_rows_gone_upstream(upstream, key, upstream_key=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where not exists (
            select 1 from {{ upstream }} as upstream
            where upstream.{{ upstream_key or key }} = {{ this.identifier }}.{{ key }}
        )
    {%- endif -%}
{%- endmacro %}
