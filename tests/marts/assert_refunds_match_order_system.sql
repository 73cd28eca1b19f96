-- Refunds to the fen (spec/metrics.md): per reporting date, refund_amount_yuan of
-- agg_transaction__daily, of agg_transaction__daily_by_channel (summed over channels) and of
-- fct_refunds' successful refunds equal the successful refunds of the staged order-system
-- table on their refund date. Returns one row per date where they differ.

{% set reference %}
    select
        {{ shoplens.to_reporting_date('refunded_at') }} as metric_date,
        sum(amount_fen) as refund_fen
    from {{ ref('stg_order_system__refunds') }}
    where refund_status = 'success'
    group by {{ shoplens.to_reporting_date('refunded_at') }}
{% endset %}

{% set measures = {'refund_fen': 'refund_amount_yuan * 100'} %}

{{ shoplens.daily_totals_differ(reference, [
    {'relation': ref('agg_transaction__daily'), 'date_column': 'metric_date', 'measures': measures},
    {'relation': ref('agg_transaction__daily_by_channel'), 'date_column': 'metric_date', 'measures': measures},
    {'relation': ref('fct_refunds'), 'date_column': 'refunded_date',
     'measures': {'refund_fen': 'case when is_success then amount_yuan * 100 else 0 end'}},
]) }}
