{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='payment_id',
        on_schema_change='fail',
    )
}}

{#
    Incremental: a run re-reads every export of the payments exported since the look-back bound
    (the newest _loaded_at here minus staging_lookback_minutes) and replaces them by key, so
    each keeps its latest version as in a full build; the monitoring cycle hashes and writes
    only those payments, not every payment of the history.
#}

with

source as (

    select * from {{ source('order_system', 'payments') }}
    {% if is_incremental() %}
        where payment_id in (
            select exported.payment_id
            from {{ source('order_system', 'payments') }} as exported
            where exported._loaded_at >= {{ shoplens.loaded_since(this) }}
        )
    {% endif %}

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
