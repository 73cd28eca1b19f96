-- GMV and paid orders to the fen (spec/metrics.md): per reporting date, agg_transaction__daily
-- and agg_transaction__daily_by_channel (summed over channels) equal the payable amounts of the
-- order system's orders whose earliest successful payment finished that day, summed straight
-- from the staged order-system tables. Returns one row per date where any of them differ.

{% set reference %}
    select
        paid.paid_date as metric_date,
        sum(orders.payable_fen) as gmv_fen,
        count(*) as paid_orders
    from {{ ref('stg_order_system__orders') }} as orders
    inner join ({{ shoplens.order_system_paid_orders() }}) as paid
        on orders.order_id = paid.order_id
    group by paid.paid_date
{% endset %}

{% set measures = {'gmv_fen': 'gmv_yuan * 100', 'paid_orders': 'orders'} %}

{{ shoplens.daily_totals_differ(reference, [
    {'relation': ref('agg_transaction__daily'), 'date_column': 'metric_date', 'measures': measures},
    {'relation': ref('agg_transaction__daily_by_channel'), 'date_column': 'metric_date', 'measures': measures},
]) }}
