with

stg_order_system__orders as (

    select * from {{ ref('stg_order_system__orders') }}

),

stg_order_system__payments as (

    select * from {{ ref('stg_order_system__payments') }}

),

ranked_successes as (

    select
        order_id,
        payment_id,
        finished_at,
        row_number() over (partition by order_id order by finished_at, payment_id) as success_rank
    from stg_order_system__payments
    where payment_status = 'success' and finished_at is not null

),

final as (

    -- A paid order (spec/metrics.md): an order whose payment succeeded; it counts on the
    -- reporting date of that payment's finished_at (the first success, should there be two).
    -- The buyer's person is their member account (user_id_hash).
    select
        stg_order_system__orders.order_id,
        stg_order_system__orders.user_id_hash as person_id,
        stg_order_system__orders.created_at,
        ranked_successes.payment_id,
        ranked_successes.finished_at as paid_at,
        {{ shoplens.to_reporting_date('ranked_successes.finished_at') }} as paid_date,
        stg_order_system__orders.payable_fen
    from stg_order_system__orders
    inner join ranked_successes
        on stg_order_system__orders.order_id = ranked_successes.order_id
    where ranked_successes.success_rank = 1

)

select * from final
