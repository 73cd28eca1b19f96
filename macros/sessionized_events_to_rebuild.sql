{#
    The rows of int_events_sessionized that an incremental session-level model must rebuild:
    every event of the sessions (re)computed since the model's last run; everything on a full
    build. Shared by fct_sessions and fct_page_views.
#}
{% macro sessionized_events_to_rebuild() %}
    select * from {{ ref('int_events_sessionized') }}
    {% if is_incremental() %}
        where session_id in (
            select session_id from {{ ref('int_events_sessionized') }}
            -- An empty model (a first run without consented events) rebuilds everything.
            where _sessionized_at > (
                select coalesce(max(_sessionized_at), cast('1970-01-01' as timestamp))
                from {{ this }}
            )
        )
    {% endif %}
{% endmacro %}
