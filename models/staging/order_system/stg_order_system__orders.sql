{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='fail',
    )
}}

-- Incremental: see shoplens.exports_of_keys_exported_since.

with

source as (

    {{ shoplens.exports_of_keys_exported_since(source('order_system', 'orders'), 'order_id') }}

),

latest as (

    -- The order system re-exports an order when its status changes: keep the newest row.
    {{ shoplens.latest_row_per_key('source', ['order_id'], 'updated_at desc nulls last') }}

),

renamed as (

    select
        order_id,
        {{ shoplens.hash_pii('user_id') }} as user_id_hash,
        created_at,
        updated_at,
        {{ shoplens.to_reporting_date('created_at') }} as created_date,
        status as order_status,
        item_amount_fen,
        discount_fen,
        shipping_fen,
        payable_fen,
        coupon_id,
        channel as order_channel,
        _batch_id,
        _loaded_at
    from latest

)

select * from renamed
