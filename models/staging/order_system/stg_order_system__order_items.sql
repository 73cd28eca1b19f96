with

source as (

    select * from {{ source('order_system', 'order_items') }}

),

latest as (

    {{ shoplens.latest_row_per_key(
        'source', ['order_id', 'sku_id'], '_loaded_at desc, _line_number desc'
    ) }}

),

renamed as (

    select
        order_id,
        sku_id,
        product_id,
        quantity,
        unit_price_fen,
        coalesce(item_discount_fen, 0) as item_discount_fen,
        _batch_id,
        _loaded_at
    from latest

)

select * from renamed
