{#
    One row per item (order and SKU) of a paid order, dated by the order's paid_date: units and
    product revenue (quantity × unit price − item discount, fen; spec/metrics.md, Product).
#}

with

stg_order_system__order_items as (

    select * from {{ ref('stg_order_system__order_items') }}

),

int_orders_paid as (

    select * from {{ ref('int_orders_paid') }}

),

final as (

    select
        stg_order_system__order_items.order_id,
        stg_order_system__order_items.sku_id,
        stg_order_system__order_items.product_id,
        int_orders_paid.person_id,
        int_orders_paid.paid_date,
        stg_order_system__order_items.quantity,
        stg_order_system__order_items.quantity * stg_order_system__order_items.unit_price_fen
        - stg_order_system__order_items.item_discount_fen as revenue_fen
    from stg_order_system__order_items
    inner join int_orders_paid
        on stg_order_system__order_items.order_id = int_orders_paid.order_id

)

select * from final
