-- Refunds to the fen (spec/metrics.md): per reporting date, refund_amount_yuan of
-- agg_transaction__daily, and of agg_transaction__daily_by_channel summed over channels, equal
-- the successful refunds of the staged order-system table on their refund date. Returns one
-- row per date where they differ.

with

direct as (

    select
        {{ shoplens.to_reporting_date('refunded_at') }} as metric_date,
        sum(amount_fen) as refund_fen
    from {{ ref('stg_order_system__refunds') }}
    where refund_status = 'success'
    group by {{ shoplens.to_reporting_date('refunded_at') }}

),

daily as (

    select
        metric_date,
        sum(refund_amount_yuan * 100) as refund_fen
    from {{ ref('agg_transaction__daily') }}
    group by metric_date

),

by_channel as (

    select
        metric_date,
        sum(refund_amount_yuan * 100) as refund_fen
    from {{ ref('agg_transaction__daily_by_channel') }}
    group by metric_date

),

compared as (

    select
        coalesce(direct.metric_date, daily.metric_date, by_channel.metric_date) as metric_date,
        coalesce(direct.refund_fen, 0) as direct_refund_fen,
        coalesce(daily.refund_fen, 0) as daily_refund_fen,
        coalesce(by_channel.refund_fen, 0) as by_channel_refund_fen
    from direct
    full outer join daily
        on direct.metric_date = daily.metric_date
    full outer join by_channel
        on coalesce(direct.metric_date, daily.metric_date) = by_channel.metric_date

)

select *
from compared
where direct_refund_fen <> daily_refund_fen or direct_refund_fen <> by_channel_refund_fen
