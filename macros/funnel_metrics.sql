{#
    Funnel metrics (spec/metrics.md, core_funnel and the step rates) per reporting date,
    optionally per channel, for every funnel of the seed funnel_steps: sessions reaching each
    step in order, rate from the previous step, rate from step 1, and the drop-off (sessions
    that reached the previous step but not this one). A session counts on its session_date and
    in its channel. Every step of every funnel has a row for every date (and channel) with a
    session, zero when no session reached it. One definition for agg_funnel__daily and
    agg_funnel__daily_by_channel.
#}
{% macro funnel_metrics(by_channel) %}
{%- set grain = 'fct_sessions.session_date' ~ (', fct_sessions.channel' if by_channel else '') -%}
{%- set partition = 'funnel_id, metric_date' ~ (', channel' if by_channel else '') -%}
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

reached_counts as (

    select
        {{ grain }},
        int_funnel_steps_reached.funnel_id,
        int_funnel_steps_reached.step_number,
        count(*) as sessions_reached
    from int_funnel_steps_reached
    inner join fct_sessions
        on int_funnel_steps_reached.session_id = fct_sessions.session_id
    group by {{ grain }}, int_funnel_steps_reached.funnel_id, int_funnel_steps_reached.step_number

),

session_days as (

    select distinct {{ grain }}
    from fct_sessions

),

grid as (

    select
        session_days.*,
        funnel_steps.funnel_id,
        funnel_steps.funnel_label_en,
        funnel_steps.funnel_label_zh,
        funnel_steps.step_number,
        funnel_steps.step_label_en,
        funnel_steps.step_label_zh
    from session_days
    cross join funnel_steps

),

counted as (

    select
        grid.session_date as metric_date,
        {%- if by_channel %}
        grid.channel,
        {%- endif %}
        grid.funnel_id,
        cast(grid.funnel_label_en as {{ dbt.type_string() }}) as funnel_label_en,
        cast(grid.funnel_label_zh as {{ dbt.type_string() }}) as funnel_label_zh,
        cast(grid.step_number as integer) as step_number,
        cast(grid.step_label_en as {{ dbt.type_string() }}) as step_label_en,
        cast(grid.step_label_zh as {{ dbt.type_string() }}) as step_label_zh,
        cast(coalesce(reached_counts.sessions_reached, 0) as bigint) as sessions_reached
    from grid
    left join reached_counts
        on
            grid.session_date = reached_counts.session_date
            {%- if by_channel %}
            and grid.channel = reached_counts.channel
            {%- endif %}
            and grid.funnel_id = reached_counts.funnel_id
            and grid.step_number = reached_counts.step_number

),

with_previous as (

    select
        *,
        lag(sessions_reached) over (partition by {{ partition }} order by step_number) as previous_step_sessions,
        first_value(sessions_reached) over (partition by {{ partition }} order by step_number) as first_step_sessions
    from counted

),

final as (

    select
        metric_date,
        {%- if by_channel %}
        channel,
        {%- endif %}
        cast(funnel_id as {{ dbt.type_string() }}) as funnel_id,
        funnel_label_en,
        funnel_label_zh,
        step_number,
        step_label_en,
        step_label_zh,
        sessions_reached,
        {{ shoplens.ratio('sessions_reached', 'previous_step_sessions') }} as rate_from_previous,
        {{ shoplens.ratio('sessions_reached', 'first_step_sessions') }} as rate_from_first,
        previous_step_sessions - sessions_reached as drop_off_sessions
    from with_previous

)

select * from final
{% endmacro %}
