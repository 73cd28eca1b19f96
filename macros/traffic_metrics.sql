{#
    The traffic metrics of spec/metrics.md, per reporting date, optionally per channel:
    pv, uv, active_users, new_users, returning_users, sessions, avg_stay_seconds.
    One definition for agg_traffic__daily and agg_traffic__daily_by_channel.
#}
{% macro traffic_metrics(by_channel) %}
{%- set channel = ', channel' if by_channel else '' -%}
{%- set joined_channel = ', event_sessions.channel' if by_channel else '' -%}
with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

fct_page_views as (

    select * from {{ ref('fct_page_views') }}

),

int_persons_first_seen as (

    select * from {{ ref('int_persons_first_seen') }}

),

events as (

    select
        int_events_sessionized.event_date as activity_date,
        int_events_sessionized.person_id,
        int_events_sessionized.event_name{{ joined_channel }}
    from int_events_sessionized
    {%- if by_channel %}
    inner join fct_sessions as event_sessions
        on int_events_sessionized.session_id = event_sessions.session_id
    {%- endif %}

),

activity as (

    select
        activity_date{{ channel }},
        cast(sum(case when event_name = 'page_view' then 1 else 0 end) as bigint) as pv,
        count(distinct case when event_name = 'page_view' then person_id end) as uv,
        count(distinct person_id) as active_users
    from events
    group by activity_date{{ channel }}

),

new_persons as (

    select
        int_persons_first_seen.first_event_date as activity_date{{ joined_channel }},
        count(*) as new_users
    from int_persons_first_seen
    {%- if by_channel %}
    inner join fct_sessions as event_sessions
        on int_persons_first_seen.first_session_id = event_sessions.session_id
    {%- endif %}
    group by int_persons_first_seen.first_event_date{{ joined_channel }}

),

session_counts as (

    select
        session_date as activity_date{{ channel }},
        count(*) as sessions
    from fct_sessions
    group by session_date{{ channel }}

),

stay_times as (

    select
        fct_page_views.view_date as activity_date{{ joined_channel }},
        avg(fct_page_views.stay_seconds) as avg_stay_seconds
    from fct_page_views
    {%- if by_channel %}
    inner join fct_sessions as event_sessions
        on fct_page_views.session_id = event_sessions.session_id
    {%- endif %}
    where fct_page_views.stay_seconds is not null
    group by fct_page_views.view_date{{ joined_channel }}

),

final as (

    select
        activity.activity_date as metric_date,
        {%- if by_channel %}
        activity.channel,
        {%- endif %}
        activity.pv,
        activity.uv,
        activity.active_users,
        coalesce(new_persons.new_users, 0) as new_users,
        activity.active_users - coalesce(new_persons.new_users, 0) as returning_users,
        coalesce(session_counts.sessions, 0) as sessions,
        stay_times.avg_stay_seconds
    from activity
    left join new_persons
        on
            activity.activity_date = new_persons.activity_date
            {%- if by_channel %} and activity.channel = new_persons.channel{% endif %}
    left join session_counts
        on
            activity.activity_date = session_counts.activity_date
            {%- if by_channel %} and activity.channel = session_counts.channel{% endif %}
    left join stay_times
        on
            activity.activity_date = stay_times.activity_date
            {%- if by_channel %} and activity.channel = stay_times.channel{% endif %}

)

select * from final
{% endmacro %}
