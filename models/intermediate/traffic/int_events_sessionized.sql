with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

int_anonymous_ids_identified as (

    select * from {{ ref('int_anonymous_ids_identified') }}

),

valid_events as (

    -- Valid events (spec/metrics.md): deduplicated (staging) and conforming to the tracking plan.
    select
        event_id,
        event_name,
        anonymous_id_hash,
        user_id_hash,
        event_at,
        event_date,
        received_at,
        scene,
        page_path,
        page_type,
        product_id,
        duration_ms,
        -- A launch sorts before any other event with the same timestamp: it opens the session.
        case when event_name = 'mp_launch' then 0 else 1 end as launch_order
    from stg_mini_program__events
    where is_conforming

),

with_previous as (

    select
        *,
        lag(event_at) over (
            partition by anonymous_id_hash
            order by event_at, launch_order, received_at, event_id
        ) as previous_event_at
    from valid_events

),

with_starts as (

    -- A session starts on a device's first event, on mp_launch, or after a gap of more than
    -- session_timeout_minutes (exactly 30 minutes stays in the session).
    select
        *,
        case
            when
                previous_event_at is null
                or event_name = 'mp_launch'
                or event_at > {{ dbt.dateadd('minute', var('session_timeout_minutes'), 'previous_event_at') }}
                then 1
            else 0
        end as is_session_start
    from with_previous

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by anonymous_id_hash
            order by event_at, launch_order, received_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from with_starts

),

session_first_events as (

    select
        anonymous_id_hash,
        session_number,
        event_id as first_event_id
    from numbered
    where is_session_start = 1

),

final as (

    select
        numbered.event_id,
        -- Stable while the session's first event stays its first event.
        {{ dbt.hash(dbt.concat(["numbered.anonymous_id_hash", "'/'", "session_first_events.first_event_id"])) }}
            as session_id,
        row_number() over (
            partition by numbered.anonymous_id_hash, numbered.session_number
            order by numbered.event_at, numbered.launch_order, numbered.received_at, numbered.event_id
        ) as event_sequence,
        numbered.is_session_start = 1 as is_session_start,
        numbered.event_name,
        numbered.anonymous_id_hash,
        int_anonymous_ids_identified.person_id,
        numbered.user_id_hash,
        numbered.event_at,
        numbered.event_date,
        numbered.received_at,
        numbered.scene,
        numbered.page_path,
        numbered.page_type,
        numbered.product_id,
        numbered.duration_ms
    from numbered
    inner join session_first_events
        on
            numbered.anonymous_id_hash = session_first_events.anonymous_id_hash
            and numbered.session_number = session_first_events.session_number
    inner join int_anonymous_ids_identified
        on numbered.anonymous_id_hash = int_anonymous_ids_identified.anonymous_id_hash

)

select * from final
