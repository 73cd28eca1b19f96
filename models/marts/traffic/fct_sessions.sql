{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='session_id',
        on_schema_change='fail',
        post_hook="{{ shoplens.delete_rows_gone_upstream(ref('int_events_sessionized'), 'session_id') }}",
    )
}}

{#
    Incremental on arrival: rebuilds the sessions that int_events_sessionized re-sessionized
    since this model's last run, and (post-hook) deletes sessions that are gone upstream: merged
    away by a late event, or all of whose events a late consent withdrawal excluded.
#}

with

int_events_sessionized as (

    {{ shoplens.sessionized_events_to_rebuild() }}

),

wechat_scene_channels as (

    select * from {{ ref('wechat_scene_channels') }}

),

sessions as (

    select
        session_id,
        anonymous_id_hash,
        person_id,
        cast(sum(case when event_name = 'page_view' then 1 else 0 end) as bigint) as page_view_count,
        max(_sessionized_at) as _sessionized_at,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as event_count
    from int_events_sessionized
    group by session_id, anonymous_id_hash, person_id

),

launches as (

    -- A launch always opens a session, so the session's launch is its first event.
    select
        session_id,
        scene
    from int_events_sessionized
    where is_session_start and event_name = 'mp_launch'

),

ranked_page_views as (

    select
        session_id,
        page_path,
        row_number() over (partition by session_id order by event_sequence asc) as rank_from_start,
        row_number() over (partition by session_id order by event_sequence desc) as rank_from_end
    from int_events_sessionized
    where event_name = 'page_view'

),

landing_pages as (

    select
        session_id,
        page_path as landing_page_path
    from ranked_page_views
    where rank_from_start = 1

),

exit_pages as (

    select
        session_id,
        page_path as exit_page_path
    from ranked_page_views
    where rank_from_end = 1

),

final as (

    select
        sessions.session_id,
        sessions.anonymous_id_hash,
        sessions.person_id,
        sessions.started_at,
        sessions.ended_at,
        {{ shoplens.to_reporting_date('sessions.started_at') }} as session_date,
        {{ shoplens.seconds_between('sessions.started_at', 'sessions.ended_at') }} as duration_seconds,
        sessions.event_count,
        sessions.page_view_count,
        landing_pages.landing_page_path,
        exit_pages.exit_page_path,
        sessions.page_view_count = 1 as is_bounce,
        launches.scene,
        cast(
            case
                when launches.session_id is null then 'unknown'
                else coalesce(wechat_scene_channels.channel, 'other')
            end as {{ dbt.type_string() }}
        ) as channel,
        sessions._sessionized_at
    from sessions
    left join launches
        on sessions.session_id = launches.session_id
    left join wechat_scene_channels
        on launches.scene = wechat_scene_channels.scene
    left join landing_pages
        on sessions.session_id = landing_pages.session_id
    left join exit_pages
        on sessions.session_id = exit_pages.session_id

)

select * from final
