{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='page_view_id',
        on_schema_change='fail',
        post_hook="{{ shoplens.delete_rows_gone_upstream(ref('int_events_sessionized'), 'page_view_id', 'event_id') }}",
    )
}}

{#
    Incremental on arrival: recomputes the page views of the sessions that
    int_events_sessionized re-sessionized since this model's last run (a late event changes
    the stay time of the page view before it). page_view_id is the page_view event, so a
    recomputed row replaces the old one; a page view whose event a late consent withdrawal
    excluded is deleted (post-hook).
#}

with

int_events_sessionized as (

    {{ shoplens.sessionized_events_to_rebuild() }}

),

session_events as (

    -- Each event carries the ordinal of the latest page view at or before it in its session:
    -- a page_leave with ordinal n follows page view n.
    select
        *,
        sum(case when event_name = 'page_view' then 1 else 0 end) over (
            partition by session_id
            order by event_sequence
            rows between unbounded preceding and current row
        ) as page_view_ordinal
    from int_events_sessionized
    where event_name in ('page_view', 'page_leave', 'mp_hide')

),

page_views as (

    select * from session_events
    where event_name = 'page_view'

),

boundaries as (

    -- The next page view or mp_hide after each page view, in the same session.
    select
        event_id,
        lead(event_at) over (partition by session_id order by event_sequence) as next_boundary_at
    from session_events
    where event_name in ('page_view', 'mp_hide')

),

ranked_leaves as (

    select
        session_events.session_id,
        session_events.page_view_ordinal,
        session_events.duration_ms,
        row_number() over (
            partition by session_events.session_id, session_events.page_view_ordinal
            order by session_events.event_sequence
        ) as leave_rank
    from session_events
    inner join page_views
        on
            session_events.session_id = page_views.session_id
            and session_events.page_view_ordinal = page_views.page_view_ordinal
            and session_events.page_path = page_views.page_path
    where session_events.event_name = 'page_leave'

),

matching_leaves as (

    -- The SDK's own stay time: the first page_leave of the same page before the next page view.
    select
        session_id,
        page_view_ordinal,
        duration_ms
    from ranked_leaves
    where leave_rank = 1

),

session_page_counts as (

    select
        session_id,
        max(page_view_ordinal) as page_views_in_session
    from page_views
    group by session_id

),

measured as (

    select
        page_views.event_id as page_view_id,
        page_views.session_id,
        page_views.anonymous_id_hash,
        page_views.person_id,
        page_views.event_at as viewed_at,
        page_views.page_path,
        page_views.page_type,
        page_views.product_id,
        page_views.page_view_ordinal,
        session_page_counts.page_views_in_session,
        page_views._sessionized_at,
        matching_leaves.duration_ms / 1000.0 as leave_stay_seconds,
        {{ shoplens.seconds_between('page_views.event_at', 'boundaries.next_boundary_at') }} as boundary_stay_seconds
    from page_views
    inner join boundaries
        on page_views.event_id = boundaries.event_id
    inner join session_page_counts
        on page_views.session_id = session_page_counts.session_id
    left join matching_leaves
        on
            page_views.session_id = matching_leaves.session_id
            and page_views.page_view_ordinal = matching_leaves.page_view_ordinal

),

final as (

    select
        page_view_id,
        session_id,
        anonymous_id_hash,
        person_id,
        viewed_at,
        page_path,
        page_type,
        product_id,
        cast(page_view_ordinal as bigint) as page_view_number,
        {{ shoplens.to_reporting_date('viewed_at') }} as view_date,
        -- Stay time (spec/metrics.md): the matching page_leave's duration, else the time to the
        -- next page view or mp_hide in the session, capped; unknown (null) otherwise.
        -- (least() ignores nulls on every engine, so an unknown stay time is kept null explicitly.)
        case
            when coalesce(leave_stay_seconds, boundary_stay_seconds) is not null
                then least(coalesce(leave_stay_seconds, boundary_stay_seconds), {{ var('stay_time_cap_seconds') }})
        end as stay_seconds,
        case
            when leave_stay_seconds is not null then 'page_leave'
            when boundary_stay_seconds is not null then 'next_event'
        end as stay_source,
        page_view_ordinal = 1 as is_entry,
        page_view_ordinal = page_views_in_session as is_exit,
        _sessionized_at
    from measured

)

select * from final
