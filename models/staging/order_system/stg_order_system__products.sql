with

source as (

    select * from {{ source('order_system', 'products') }}

),

latest as (

    -- Each catalog export restates every SKU: keep the newest.
    {{ shoplens.latest_row_per_key('source', ['sku_id']) }}

),

renamed as (

    select
        sku_id,
        product_id,
        title as product_title,
        category,
        brand,
        list_price_fen,
        is_active,
        _batch_id,
        _loaded_at
    from latest

)

select * from renamed
