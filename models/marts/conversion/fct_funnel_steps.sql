{#
    One row per funnel, step and session that reached the funnel's first step (seed
    funnel_steps): whether the session reached this step, and the previous one, in order (see
    int_funnel_steps_reached). Sums of these flags are the funnel metrics of spec/metrics.md:
    sessions reaching a step, rate from the previous step, rate from step 1, drop-off. A session
    counts on its session_date and in its channel.
#}

with

int_funnel_steps_reached as (

    select * from {{ ref('int_funnel_steps_reached') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

funnel_steps as (

    select * from {{ ref('funnel_steps') }}

),

entrants as (

    select
        funnel_id,
        session_id
    from int_funnel_steps_reached
    where step_number = 1

),

final as (

    select
        cast(entrants.funnel_id as {{ dbt.type_string() }}) as funnel_id,
        cast(funnel_steps.step_number as integer) as step_number,
        entrants.session_id,
        fct_sessions.session_date,
        fct_sessions.channel,
        cast(case when this_step.session_id is not null then 1 else 0 end as integer) as is_reached,
        cast(case
            when funnel_steps.step_number = 1 then null
            when previous_step.session_id is not null then 1
            else 0
        end as integer) as is_previous_reached
    from entrants
    inner join funnel_steps
        on entrants.funnel_id = funnel_steps.funnel_id
    inner join fct_sessions
        on entrants.session_id = fct_sessions.session_id
    left join int_funnel_steps_reached as this_step
        on
            entrants.funnel_id = this_step.funnel_id
            and entrants.session_id = this_step.session_id
            and funnel_steps.step_number = this_step.step_number
    left join int_funnel_steps_reached as previous_step
        on
            entrants.funnel_id = previous_step.funnel_id
            and entrants.session_id = previous_step.session_id
            and funnel_steps.step_number - 1 = previous_step.step_number

)

select * from final
