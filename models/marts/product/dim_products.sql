with

stg_order_system__products as (

    select * from {{ ref('stg_order_system__products') }}

),

final as (

    select
        sku_id,
        product_id,
        product_title,
        category,
        brand,
        {{ shoplens.fen_to_yuan('list_price_fen') }} as list_price_yuan,
        is_active
    from stg_order_system__products

)

select * from final
