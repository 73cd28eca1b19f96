with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

final as (

    -- The consent rule lives in int_events_consented: a staged event that is not there was
    -- excluded for consent.
    select
        stg_mini_program__events.event_date as metric_date,
        cast(count(*) as bigint) as staged_events,
        cast(count(int_events_consented.event_id) as bigint) as consented_events,
        cast(sum(case when int_events_consented.event_id is null then 1 else 0 end) as bigint)
            as excluded_events
    from stg_mini_program__events
    left join int_events_consented
        on stg_mini_program__events.event_id = int_events_consented.event_id
    group by stg_mini_program__events.event_date

)

select * from final
