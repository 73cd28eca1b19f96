{#
    One row per item (order and SKU) of a paid order, dated by the order's paid_date
    (spec/metrics.md, Product: units_sold and product_revenue = quantity × unit price − item
    discount, in yuan).
#}

with

int_order_items_paid as (

    select * from {{ ref('int_order_items_paid') }}

),

final as (

    select
        order_id,
        sku_id,
        product_id,
        person_id,
        paid_date,
        cast(quantity as bigint) as units,
        {{ shoplens.fen_to_yuan('revenue_fen') }} as revenue_yuan
    from int_order_items_paid

)

select * from final
