with

stg_order_system__refunds as (

    select * from {{ ref('stg_order_system__refunds') }}

),

stg_order_system__orders as (

    select * from {{ ref('stg_order_system__orders') }}

),

final as (

    select
        stg_order_system__refunds.refund_id,
        stg_order_system__refunds.order_id,
        stg_order_system__orders.user_id_hash as person_id,
        stg_order_system__refunds.refunded_at,
        stg_order_system__refunds.refunded_date,
        stg_order_system__refunds.refund_status,
        stg_order_system__refunds.refund_status = 'success' as is_success,
        {{ shoplens.fen_to_yuan('stg_order_system__refunds.amount_fen') }} as amount_yuan
    from stg_order_system__refunds
    -- A left join: an attempt whose order is missing stays (staging tests flag it).
    left join stg_order_system__orders
        on stg_order_system__refunds.order_id = stg_order_system__orders.order_id

)

select * from final
