with

stg_order_system__payments as (

    select * from {{ ref('stg_order_system__payments') }}

),

stg_order_system__orders as (

    select * from {{ ref('stg_order_system__orders') }}

),

final as (

    select
        stg_order_system__payments.payment_id,
        stg_order_system__payments.order_id,
        stg_order_system__orders.user_id_hash as person_id,
        cast(row_number() over (
            partition by stg_order_system__payments.order_id
            order by stg_order_system__payments.created_at, stg_order_system__payments.payment_id
        ) as bigint) as attempt_number,
        stg_order_system__payments.created_at,
        stg_order_system__payments.created_date,
        stg_order_system__payments.finished_at,
        stg_order_system__payments.finished_date,
        stg_order_system__payments.payment_status,
        stg_order_system__payments.payment_status = 'success' as is_success,
        stg_order_system__payments.payment_status in ('success', 'failed', 'cancelled') as is_finished,
        {{ shoplens.fen_to_yuan('stg_order_system__payments.amount_fen') }} as amount_yuan,
        stg_order_system__payments.pay_method,
        stg_order_system__payments.error_code
    from stg_order_system__payments
    -- A left join: an attempt whose order is missing stays (staging tests flag it).
    left join stg_order_system__orders
        on stg_order_system__payments.order_id = stg_order_system__orders.order_id

)

select * from final
