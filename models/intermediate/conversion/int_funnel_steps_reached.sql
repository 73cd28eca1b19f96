{#
    Funnels as data (seed funnel_steps): for every session and funnel, the steps the session
    reached in order. Step 1 is reached at the session's first matching event; step k at the
    first matching event after the event that reached step k − 1 (other events may come between;
    a step seen before the previous one does not count; one event reaches at most one step of a
    funnel). Taking the earliest match at each step finds the longest ordered path, so repeated
    steps do not matter. Steps are unrolled up to var funnel_max_steps; a seed test checks that
    no funnel has more.
#}

{{ config(pre_hook="{{ shoplens.prefer_hash_joins() }}") }}

with

int_funnel_step_events as (

    select * from {{ ref('int_funnel_step_events') }}

),

reached_step_1 as (

    select
        funnel_id,
        session_id,
        min(event_sequence) as reached_sequence
    from int_funnel_step_events
    where step_number = 1
    group by funnel_id, session_id

),

{% for step in range(2, var('funnel_max_steps') + 1) %}

    reached_step_{{ step }} as (

        select
            int_funnel_step_events.funnel_id,
            int_funnel_step_events.session_id,
            min(int_funnel_step_events.event_sequence) as reached_sequence
        from int_funnel_step_events
        inner join reached_step_{{ step - 1 }} as previous_step
            on
                int_funnel_step_events.funnel_id = previous_step.funnel_id
                and int_funnel_step_events.session_id = previous_step.session_id
        where
            int_funnel_step_events.step_number = {{ step }}
            and int_funnel_step_events.event_sequence > previous_step.reached_sequence
        group by int_funnel_step_events.funnel_id, int_funnel_step_events.session_id

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
        int_funnel_step_events.event_id as reached_event_id,
        int_funnel_step_events.event_at as reached_at
    from reached
    inner join int_funnel_step_events
        on
            reached.funnel_id = int_funnel_step_events.funnel_id
            and reached.session_id = int_funnel_step_events.session_id
            and reached.step_number = int_funnel_step_events.step_number
            and reached.reached_sequence = int_funnel_step_events.event_sequence

)

select * from final
