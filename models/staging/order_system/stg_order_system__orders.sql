{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='fail',
    )
}}

{#
    Incremental: a run re-reads every export of the orders exported since the look-back bound
    (the newest _loaded_at here minus staging_lookback_minutes) and replaces them by key, so
    each keeps its latest version as in a full build; the monitoring cycle hashes and writes
    only those orders, not every order of the history.
#}

with

source as (

    select * from {{ source('order_system', 'orders') }}
    {% if is_incremental() %}
        where order_id in (
            select exported.order_id
            from {{ source('order_system', 'orders') }} as exported
            where exported._loaded_at >= {{ shoplens.loaded_since(this) }}
        )
    {% endif %}

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
