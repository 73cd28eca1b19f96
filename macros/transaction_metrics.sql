{#
    Transaction metrics (spec/metrics.md, 交易層) per reporting date, optionally per channel,
    from the order system's facts: gmv and orders of paid orders on their paid_date, paying
    users, aov (gmv / orders), arpu_paying (客單價, gmv / paying users), refund amount of
    successful refunds on their refund date, net gmv (gmv − refunds), payment success rate of
    the attempts created that day, and order payment rate of the orders created that day.
    An order's channel is the channel of the session in which it was submitted; `untracked`
    when its submit_order event was not tracked. One definition for agg_transaction__daily and
    agg_transaction__daily_by_channel.
#}
{% macro transaction_metrics(by_channel) %}
{%- set channel = ', channel' if by_channel else '' -%}
with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_payments as (

    select * from {{ ref('fct_payments') }}

),

fct_refunds as (

    select * from {{ ref('fct_refunds') }}

),

orders as (

    select
        *,
        coalesce(channel, 'untracked') as order_channel
    from fct_orders

),

paid as (

    select
        paid_date as metric_date{% if by_channel %},
        order_channel as channel{% endif %},
        cast(sum(payable_yuan) as numeric(18, 2)) as gmv_yuan,
        count(*) as orders,
        count(distinct person_id) as paying_users
    from orders
    where is_paid
    group by paid_date{% if by_channel %}, order_channel{% endif %}

),

created as (

    select
        created_date as metric_date{% if by_channel %},
        order_channel as channel{% endif %},
        count(*) as orders_created,
        cast(sum(case when is_paid then 1 else 0 end) as bigint) as orders_created_paid
    from orders
    group by created_date{% if by_channel %}, order_channel{% endif %}

),

refunded as (

    select
        fct_refunds.refunded_date as metric_date{% if by_channel %},
        coalesce(orders.order_channel, 'untracked') as channel{% endif %},
        cast(sum(fct_refunds.amount_yuan) as numeric(18, 2)) as refund_amount_yuan
    from fct_refunds
    {%- if by_channel %}
    left join orders
        on fct_refunds.order_id = orders.order_id
    {%- endif %}
    where fct_refunds.is_success
    group by fct_refunds.refunded_date{% if by_channel %}, coalesce(orders.order_channel, 'untracked'){% endif %}

),

attempts as (

    select
        fct_payments.created_date as metric_date{% if by_channel %},
        coalesce(orders.order_channel, 'untracked') as channel{% endif %},
        count(*) as payment_attempts,
        cast(sum(case when fct_payments.is_success then 1 else 0 end) as bigint) as successful_payments
    from fct_payments
    {%- if by_channel %}
    left join orders
        on fct_payments.order_id = orders.order_id
    {%- endif %}
    where fct_payments.is_finished
    group by fct_payments.created_date{% if by_channel %}, coalesce(orders.order_channel, 'untracked'){% endif %}

),

metric_keys as (

    select metric_date{{ channel }} from paid
    union
    select metric_date{{ channel }} from created
    union
    select metric_date{{ channel }} from refunded
    union
    select metric_date{{ channel }} from attempts

),

final as (

    select
        metric_keys.metric_date,
        {%- if by_channel %}
        cast(metric_keys.channel as {{ dbt.type_string() }}) as channel,
        {%- endif %}
        cast(coalesce(paid.gmv_yuan, 0) as numeric(18, 2)) as gmv_yuan,
        coalesce(paid.orders, 0) as orders,
        coalesce(paid.paying_users, 0) as paying_users,
        {{ shoplens.ratio('paid.gmv_yuan', 'paid.orders') }} as aov_yuan,
        {{ shoplens.ratio('paid.gmv_yuan', 'paid.paying_users') }} as arpu_paying_yuan,
        cast(coalesce(refunded.refund_amount_yuan, 0) as numeric(18, 2)) as refund_amount_yuan,
        cast(coalesce(paid.gmv_yuan, 0) - coalesce(refunded.refund_amount_yuan, 0) as numeric(18, 2)) as net_gmv_yuan,
        coalesce(attempts.payment_attempts, 0) as payment_attempts,
        coalesce(attempts.successful_payments, 0) as successful_payments,
        {{ shoplens.ratio('attempts.successful_payments', 'attempts.payment_attempts') }} as payment_success_rate,
        coalesce(created.orders_created, 0) as orders_created,
        coalesce(created.orders_created_paid, 0) as orders_created_paid,
        {{ shoplens.ratio('created.orders_created_paid', 'created.orders_created') }} as order_payment_rate
    from metric_keys
    left join paid
        on metric_keys.metric_date = paid.metric_date{% if by_channel %} and metric_keys.channel = paid.channel{% endif %}
    left join created
        on metric_keys.metric_date = created.metric_date{% if by_channel %} and metric_keys.channel = created.channel{% endif %}
    left join refunded
        on metric_keys.metric_date = refunded.metric_date{% if by_channel %} and metric_keys.channel = refunded.channel{% endif %}
    left join attempts
        on metric_keys.metric_date = attempts.metric_date{% if by_channel %} and metric_keys.channel = attempts.channel{% endif %}

)

select * from final
{% endmacro %}
