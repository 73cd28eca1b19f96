{#
    Repurchase rate (復購率, spec/metrics.md) per calendar period: of the persons with at least
    one paid order in the period, the share with at least two. `period` is 'week' (ISO weeks,
    starting Monday) or 'month'. One definition for agg_repurchase__weekly and __monthly.
#}
{% macro repurchase_rate(period) %}
with

int_orders_paid as (

    select * from {{ ref('int_orders_paid') }}

),

orders_per_person as (

    select
        cast({{ dbt.date_trunc(period, 'paid_date') }} as date) as period_start,
        person_id,
        count(*) as paid_orders
    from int_orders_paid
    group by cast({{ dbt.date_trunc(period, 'paid_date') }} as date), person_id

),

final as (

    select
        period_start,
        count(*) as paying_users,
        cast(sum(case when paid_orders >= 2 then 1 else 0 end) as bigint) as repurchasing_users,
        {{ shoplens.ratio('sum(case when paid_orders >= 2 then 1 else 0 end)', 'count(*)') }} as repurchase_rate
    from orders_per_person
    group by period_start

)

select * from final
{% endmacro %}
