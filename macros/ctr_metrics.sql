{#
    Click-through (點擊率, spec/metrics.md) per reporting date and the given fct_exposures
    columns: exposures (distinct session, module and item), clicked exposures (followed in the
    session by a click on the same item in the same module) and ctr = clicked / exposures, never
    above 1 since each exposure counts at most once. With `count_unmatched_clicks`, also the
    clicks that had no exposure before them in their session (in the module of the click).
    One definition for agg_ctr__daily_by_module, _by_position and _by_item.
#}
{% macro ctr_metrics(dimensions, count_unmatched_clicks=false) %}
{%- set dims = dimensions | join(', ') -%}
with

fct_exposures as (

    select * from {{ ref('fct_exposures') }}

),

{%- if count_unmatched_clicks %}

int_clicks_matched as (

    select * from {{ ref('int_clicks_matched') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

unmatched_clicks as (

    select
        fct_sessions.session_date,
        {%- for dim in dimensions %}
        int_clicks_matched.{{ dim }},
        {%- endfor %}
        count(*) as clicks_without_exposure
    from int_clicks_matched
    inner join fct_sessions
        on int_clicks_matched.session_id = fct_sessions.session_id
    where not int_clicks_matched.has_prior_exposure
    group by fct_sessions.session_date{% for dim in dimensions %}, int_clicks_matched.{{ dim }}{% endfor %}

),

{%- endif %}

exposure_counts as (

    select
        session_date,
        {{ dims }},
        count(*) as exposures,
        cast(sum(case when is_clicked then 1 else 0 end) as bigint) as clicked_exposures
    from fct_exposures
    group by session_date, {{ dims }}

),

final as (

    {%- if count_unmatched_clicks %}
    select
        coalesce(exposure_counts.session_date, unmatched_clicks.session_date) as metric_date,
        {%- for dim in dimensions %}
        coalesce(exposure_counts.{{ dim }}, unmatched_clicks.{{ dim }}) as {{ dim }},
        {%- endfor %}
        coalesce(exposure_counts.exposures, 0) as exposures,
        coalesce(exposure_counts.clicked_exposures, 0) as clicked_exposures,
        {{ shoplens.ratio('exposure_counts.clicked_exposures', 'exposure_counts.exposures') }} as ctr,
        cast(coalesce(unmatched_clicks.clicks_without_exposure, 0) as bigint) as clicks_without_exposure
    from exposure_counts
    full outer join unmatched_clicks
        on
            exposure_counts.session_date = unmatched_clicks.session_date
            {%- for dim in dimensions %}
            and exposure_counts.{{ dim }} = unmatched_clicks.{{ dim }}
            {%- endfor %}
    {%- else %}
    select
        session_date as metric_date,
        {{ dims }},
        exposures,
        clicked_exposures,
        {{ shoplens.ratio('clicked_exposures', 'exposures') }} as ctr
    from exposure_counts
    {%- endif %}

)

select * from final
{% endmacro %}
