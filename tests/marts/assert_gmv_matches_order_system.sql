-- GMV to the fen (spec/metrics.md): per reporting date, agg_transaction__daily.gmv_yuan, and
-- agg_transaction__daily_by_channel summed over channels, equal the payable amounts of the
-- order system's orders whose earliest successful payment finished that day, summed straight
-- from the staged order-system tables. Returns one row per date where any of them differ.

with

first_success as (

    select
        order_id,
        min(finished_at) as paid_at
    from {{ ref('stg_order_system__payments') }}
    where payment_status = 'success' and finished_at is not null
    group by order_id

),

direct as (

    select
        {{ shoplens.to_reporting_date('first_success.paid_at') }} as metric_date,
        sum(orders.payable_fen) as gmv_fen
    from {{ ref('stg_order_system__orders') }} as orders
    inner join first_success
        on orders.order_id = first_success.order_id
    group by {{ shoplens.to_reporting_date('first_success.paid_at') }}

),

daily as (

    select
        metric_date,
        sum(gmv_yuan * 100) as gmv_fen
    from {{ ref('agg_transaction__daily') }}
    group by metric_date

),

by_channel as (

    select
        metric_date,
        sum(gmv_yuan * 100) as gmv_fen
    from {{ ref('agg_transaction__daily_by_channel') }}
    group by metric_date

),

compared as (

    select
        coalesce(direct.metric_date, daily.metric_date, by_channel.metric_date) as metric_date,
        coalesce(direct.gmv_fen, 0) as direct_gmv_fen,
        coalesce(daily.gmv_fen, 0) as daily_gmv_fen,
        coalesce(by_channel.gmv_fen, 0) as by_channel_gmv_fen
    from direct
    full outer join daily
        on direct.metric_date = daily.metric_date
    full outer join by_channel
        on coalesce(direct.metric_date, daily.metric_date) = by_channel.metric_date

)

select *
from compared
where direct_gmv_fen <> daily_gmv_fen or direct_gmv_fen <> by_channel_gmv_fen
