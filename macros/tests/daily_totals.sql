{#
    For the money identity tests (tests/marts/): `reference` is SQL giving (metric_date, one
    column per measure) computed straight from the order system; `reported` lists the marts
    that report the same measures: {'relation': ref(...), 'date_column': ..., 'measures':
    {measure: SQL expression summed per date}}, every mart naming the same measures (the
    reference's columns). Returns the dates where any mart's daily sum differs from the
    reference (a date missing on one side counts as 0).
#}
{% macro daily_totals_differ(reference, reported) %}
{%- set measures = reported[0].measures.keys() | list -%}
with

reference as (

    {{ reference }}

),

{%- for mart in reported %}

reported_{{ loop.index }} as (

    select
        {{ mart.date_column }} as metric_date,
        {%- for measure in measures %}
        sum({{ mart.measures[measure] }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ mart.relation }}
    group by {{ mart.date_column }}

),

{%- endfor %}

dates as (

    select metric_date from reference
    {%- for mart in reported %}
    union
    select metric_date from reported_{{ loop.index }}
    {%- endfor %}

),

compared as (

    select
        dates.metric_date,
        {%- for measure in measures %}
        coalesce(reference.{{ measure }}, 0) as reference_{{ measure }},
        {%- for mart in reported %}
        coalesce(reported_{{ loop.index }}.{{ measure }}, 0) as {{ mart.relation.identifier }}_{{ measure }},
        {%- endfor %}
        {%- endfor %}
        case when
            {%- for measure in measures %}
            {%- set outer_last = loop.last %}
            {%- for mart in reported %}
            coalesce(reference.{{ measure }}, 0) <> coalesce(reported_{{ loop.index }}.{{ measure }}, 0)
            {%- if not (outer_last and loop.last) %} or{% endif %}
            {%- endfor %}
            {%- endfor %}
        then 1 else 0 end as differs
    from dates
    left join reference
        on dates.metric_date = reference.metric_date
    {%- for mart in reported %}
    left join reported_{{ loop.index }}
        on dates.metric_date = reported_{{ loop.index }}.metric_date
    {%- endfor %}

)

select * from compared
where differs = 1
{% endmacro %}

{#
    Paid orders straight from the staged order-system tables, for the identity tests: an
    order's earliest successful payment, dated by its finished_at in the reporting zone. A
    second, simpler reading of the definition that int_orders_paid implements.
#}
{% macro order_system_paid_orders() %}
    select
        order_id,
        {{ shoplens.to_reporting_date('min(finished_at)') }} as paid_date
    from {{ ref('stg_order_system__payments') }}
    where payment_status = 'success' and finished_at is not null
    group by order_id
{% endmacro %}
