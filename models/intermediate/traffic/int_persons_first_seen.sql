with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

ranked_events as (

    select
        person_id,
        session_id,
        event_at,
        event_date,
        row_number() over (
            partition by person_id
            order by event_at, session_id, event_sequence
        ) as event_rank
    from int_events_sessionized

),

final as (

    -- A person is new on the reporting date of their first valid event ever.
    select
        person_id,
        event_at as first_event_at,
        event_date as first_event_date,
        session_id as first_session_id
    from ranked_events
    where event_rank = 1

)

select * from final
