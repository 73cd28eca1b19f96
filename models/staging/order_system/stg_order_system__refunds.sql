with

source as (

    select * from {{ source('order_system', 'refunds') }}

),

latest as (

    {{ shoplens.latest_row_per_key('source', ['refund_id']) }}

),

renamed as (

    select
        refund_id,
        order_id,
        refunded_at,
        {{ shoplens.to_reporting_date('refunded_at') }} as refunded_date,
        amount_fen,
        status as refund_status,
        _batch_id,
        _loaded_at
    from latest

)

select * from renamed
