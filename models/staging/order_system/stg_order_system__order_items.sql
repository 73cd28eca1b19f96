with

source as (

    select * from {{ source('order_system', 'order_items') }}

),

latest as (

    {{ shoplens.latest_row_per_key('source', ['order_id', 'sku_id']) }}

),

renamed as (

    select
        order_id,
        sku_id,
        product_id,
        quantity,
        unit_price_fen,
        _batch_id,
        _loaded_at,
        coalesce(item_discount_fen, 0) as item_discount_fen
    from latest

)

select * from renamed
