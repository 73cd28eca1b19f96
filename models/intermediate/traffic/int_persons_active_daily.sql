with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

final as (

    -- One row per person and reporting date with at least one valid event.
    select
        person_id,
        event_date as activity_date,
        count(*) as valid_events
    from int_events_sessionized
    group by person_id, event_date

)

select * from final
