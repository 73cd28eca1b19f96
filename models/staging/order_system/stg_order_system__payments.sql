{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='payment_id',
        on_schema_change='fail',
    )
}}

-- Incremental: see shoplens.exports_of_keys_exported_since.

with

source as (

    {{ shoplens.exports_of_keys_exported_since(source('order_system', 'payments'), 'payment_id') }}

),

latest as (

    {{ shoplens.latest_row_per_key('source', ['payment_id'], 'finished_at desc nulls last') }}

),

renamed as (

    select
        payment_id,
        order_id,
        created_at,
        finished_at,
        {{ shoplens.to_reporting_date('created_at') }} as created_date,
        {{ shoplens.to_reporting_date('finished_at') }} as finished_date,
        status as payment_status,
        amount_fen,
        pay_method,
        error_code,
        _batch_id,
        _loaded_at
    from latest

)

select * from renamed
