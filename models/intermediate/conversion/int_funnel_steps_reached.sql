{#
    Funnels as data (seed funnel_steps): for every session and funnel, the steps the session
    reached in order. Step 1 is reached at the session's first matching event; step k at the
    first matching event after the event that reached step k − 1 (other events may come between;
    a step seen before the previous one does not count; one event reaches at most one step of a
    funnel). Taking the earliest match at each step finds the longest ordered path, so repeated
    steps do not matter. Steps are unrolled up to var funnel_max_steps; a seed test checks that
    no funnel has more.
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

funnel_steps as (

    select * from {{ ref('funnel_steps') }}

),

step_events as (

    -- Every valid event that matches a funnel step: its event name and, when the step has a
    -- property filter, that property's value.
    select
        funnel_steps.funnel_id,
        funnel_steps.step_number,
        int_events_sessionized.session_id,
        int_events_sessionized.event_id,
        int_events_sessionized.event_sequence,
        int_events_sessionized.event_at
    from int_events_sessionized
    inner join funnel_steps
        on int_events_sessionized.event_name = funnel_steps.event_name
    inner join stg_mini_program__events
        on int_events_sessionized.event_id = stg_mini_program__events.event_id
    where
        funnel_steps.property_name is null
        or {{ shoplens.event_property_as_text('stg_mini_program__events', 'funnel_steps.property_name') }}
        = funnel_steps.property_value

),

reached_step_1 as (

    select
        funnel_id,
        session_id,
        min(event_sequence) as reached_sequence
    from step_events
    where step_number = 1
    group by funnel_id, session_id

),

{% for step in range(2, var('funnel_max_steps') + 1) %}

    reached_step_{{ step }} as (

        select
            step_events.funnel_id,
            step_events.session_id,
            min(step_events.event_sequence) as reached_sequence
        from step_events
        inner join reached_step_{{ step - 1 }} as previous_step
            on
                step_events.funnel_id = previous_step.funnel_id
                and step_events.session_id = previous_step.session_id
        where
            step_events.step_number = {{ step }}
            and step_events.event_sequence > previous_step.reached_sequence
        group by step_events.funnel_id, step_events.session_id

    ),

{% endfor %}

reached as (

    {% for step in range(1, var('funnel_max_steps') + 1) %}
        select
            funnel_id,
            session_id,
            {{ step }} as step_number,
            reached_sequence
        from reached_step_{{ step }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        reached.funnel_id,
        reached.session_id,
        cast(reached.step_number as integer) as step_number,
        step_events.event_id as reached_event_id,
        step_events.event_at as reached_at
    from reached
    inner join step_events
        on
            reached.funnel_id = step_events.funnel_id
            and reached.session_id = step_events.session_id
            and reached.step_number = step_events.step_number
            and reached.reached_sequence = step_events.event_sequence

)

select * from final
