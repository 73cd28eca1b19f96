{#
    The candidate events of every funnel step (seed funnel_steps): each valid event that
    matches a step by event name and, when the step has a property filter, by that property's
    value. A table of its own so that int_funnel_steps_reached walks the steps over a small,
    analysed relation.
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

funnel_steps as (

    select * from {{ ref('funnel_steps') }}

),

final as (

    select
        funnel_steps.funnel_id,
        cast(funnel_steps.step_number as integer) as step_number,
        int_events_sessionized.session_id,
        int_events_sessionized.event_id,
        int_events_sessionized.event_sequence,
        int_events_sessionized.event_at
    from int_events_sessionized
    inner join funnel_steps
        on int_events_sessionized.event_name = funnel_steps.event_name
    inner join int_events_consented
        on
            int_events_sessionized.event_id = int_events_consented.event_id
            -- The same condition again, so engines can hash-join staging to the steps.
            and funnel_steps.event_name = int_events_consented.event_name
    where
        funnel_steps.property_name is null
        or {{ shoplens.event_property_as_text('int_events_consented', 'funnel_steps.property_name') }}
        = funnel_steps.property_value

)

select * from final
