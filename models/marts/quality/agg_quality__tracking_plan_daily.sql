with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

final as (

    select
        event_date,
        event_name,
        count(*) as events,
        sum(case when is_conforming then 1 else 0 end) as conforming_events,
        sum(case when is_conforming then 0 else 1 end) as violating_events,
        sum(case when is_known_event then 0 else 1 end) as unknown_events,
        sum(case when is_client_time_implausible then 1 else 0 end) as implausible_time_events,
        {{ shoplens.ratio('sum(case when is_conforming then 0 else 1 end)', 'count(*)') }} as plan_violation_rate
    from stg_mini_program__events
    group by event_date, event_name

)

select * from final
