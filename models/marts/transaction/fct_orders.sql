with

stg_order_system__orders as (

    select * from {{ ref('stg_order_system__orders') }}

),

stg_order_system__order_items as (

    select * from {{ ref('stg_order_system__order_items') }}

),

stg_order_system__refunds as (

    select * from {{ ref('stg_order_system__refunds') }}

),

int_orders_paid as (

    select * from {{ ref('int_orders_paid') }}

),

int_orders_tracked as (

    select * from {{ ref('int_orders_tracked') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

units as (

    select
        order_id,
        cast(sum(quantity) as bigint) as units
    from stg_order_system__order_items
    group by order_id

),

paid_order_numbers as (

    -- Each paid order's number among its buyer's paid orders of the same ISO week (Monday
    -- start) and calendar month, by payment time: repurchase (復購率) counts buyers whose
    -- number 2 exists.
    select
        order_id,
        row_number() over (
            partition by person_id, cast({{ dbt.date_trunc('week', 'paid_date') }} as date)
            order by paid_at, order_id
        ) as paid_order_number_in_week,
        row_number() over (
            partition by person_id, cast({{ dbt.date_trunc('month', 'paid_date') }} as date)
            order by paid_at, order_id
        ) as paid_order_number_in_month
    from int_orders_paid

),

successful_refunds as (

    select
        order_id,
        cast(sum(amount_fen) as bigint) as refunded_fen,
        max(refunded_at) as refunded_at
    from stg_order_system__refunds
    where refund_status = 'success'
    group by order_id

),

final as (

    select
        stg_order_system__orders.order_id,
        stg_order_system__orders.user_id_hash as person_id,
        stg_order_system__orders.created_at,
        stg_order_system__orders.created_date,
        int_orders_paid.paid_at,
        int_orders_paid.paid_date,
        successful_refunds.refunded_at,
        int_orders_paid.order_id is not null as is_paid,
        stg_order_system__orders.order_status,
        coalesce(units.units, 0) as units,
        {{ shoplens.fen_to_yuan('stg_order_system__orders.item_amount_fen') }} as item_amount_yuan,
        {{ shoplens.fen_to_yuan('stg_order_system__orders.discount_fen') }} as discount_yuan,
        {{ shoplens.fen_to_yuan('stg_order_system__orders.shipping_fen') }} as shipping_yuan,
        {{ shoplens.fen_to_yuan('stg_order_system__orders.payable_fen') }} as payable_yuan,
        {{ shoplens.fen_to_yuan('coalesce(successful_refunds.refunded_fen, 0)') }} as refunded_yuan,
        {{ shoplens.fen_to_yuan(
            'case when int_orders_paid.order_id is not null'
            ~ ' then stg_order_system__orders.payable_fen - coalesce(successful_refunds.refunded_fen, 0)'
            ~ ' else 0 end'
        ) }} as net_yuan,
        int_orders_tracked.submit_session_id,
        fct_sessions.channel,
        coalesce(int_orders_tracked.has_pay_success, false) as has_tracked_pay_success,
        cast(paid_order_numbers.paid_order_number_in_week as integer) as paid_order_number_in_week,
        cast(paid_order_numbers.paid_order_number_in_month as integer) as paid_order_number_in_month
    from stg_order_system__orders
    left join int_orders_paid
        on stg_order_system__orders.order_id = int_orders_paid.order_id
    left join units
        on stg_order_system__orders.order_id = units.order_id
    left join successful_refunds
        on stg_order_system__orders.order_id = successful_refunds.order_id
    left join int_orders_tracked
        on stg_order_system__orders.order_id = int_orders_tracked.order_id
    left join fct_sessions
        on int_orders_tracked.submit_session_id = fct_sessions.session_id
    left join paid_order_numbers
        on stg_order_system__orders.order_id = paid_order_numbers.order_id

)

select * from final
