with

int_orders_paid as (

    select * from {{ ref('int_orders_paid') }}

),

int_orders_tracked as (

    select * from {{ ref('int_orders_tracked') }}

),

final as (

    select
        int_orders_paid.paid_date as metric_date,
        count(*) as paid_orders,
        cast(sum(case when int_orders_tracked.has_pay_success then 1 else 0 end) as bigint) as tracked_paid_orders,
        {{ shoplens.ratio('sum(case when int_orders_tracked.has_pay_success then 1 else 0 end)', 'count(*)') }}
            as tracking_coverage
    from int_orders_paid
    left join int_orders_tracked
        on int_orders_paid.order_id = int_orders_tracked.order_id
    group by int_orders_paid.paid_date

)

select * from final
