-- Every funnel of seed funnel_steps: steps numbered 1..n without gaps, n ≤ var
-- funnel_max_steps (int_funnel_steps_reached computes that many), one label per funnel, and
-- property filters only on properties staging extracts (macro event_property_as_text).
-- Returns one row per problem.

with

funnel_steps as (

    select * from {{ ref('funnel_steps') }}

),

funnels as (

    select
        funnel_id,
        count(*) as steps,
        min(step_number) as first_step,
        max(step_number) as last_step,
        count(distinct funnel_label_en) as labels_en,
        count(distinct funnel_label_zh) as labels_zh
    from funnel_steps
    group by funnel_id

),

problems as (

    select
        funnel_id,
        'steps must be numbered 1..n without gaps' as problem
    from funnels
    where first_step <> 1 or last_step <> steps

    union all

    select
        funnel_id,
        'more steps than var funnel_max_steps ({{ var("funnel_max_steps") }})' as problem
    from funnels
    where steps > {{ var('funnel_max_steps') }}

    union all

    select
        funnel_id,
        'one funnel, one label' as problem
    from funnels
    where labels_en > 1 or labels_zh > 1

    union all

    select
        funnel_id,
        'unknown property_name ' || property_name as problem
    from funnel_steps
    where
        property_name is not null
        and property_name not in (
            {%- for name in shoplens.filterable_event_properties() %}
                '{{ name }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )

    union all

    select
        funnel_id,
        'property_name and property_value go together' as problem
    from funnel_steps
    where (property_name is null) <> (property_value is null)

)

select * from problems
