with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

final as (

    select
        event_date,
        event_name,
        count(*) as events,
        cast(sum(case when is_conforming then 1 else 0 end) as bigint) as conforming_events,
        cast(sum(case when is_conforming then 0 else 1 end) as bigint) as violating_events,
        cast(sum(case when is_known_event then 0 else 1 end) as bigint) as unknown_events,
        cast(sum(case when is_client_time_implausible then 1 else 0 end) as bigint) as implausible_time_events,
        -- Late (遲到): received after the end of the event's reporting day.
        cast(sum(case
            when {{ shoplens.to_reporting_date('received_at') }} > event_date then 1 else 0
        end) as bigint) as late_events,
        {{ shoplens.ratio('sum(case when is_conforming then 0 else 1 end)', 'count(*)') }} as plan_violation_rate
    from stg_mini_program__events
    group by event_date, event_name

)

select * from final
