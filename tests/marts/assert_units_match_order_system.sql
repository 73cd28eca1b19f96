-- Units and product revenue to the fen (spec/metrics.md, Product): per reporting date,
-- agg_product__daily and agg_sku_ranking__daily (summed over products / SKUs) equal the items
-- of the order system's orders whose earliest successful payment finished that day, summed
-- straight from the staged order-system tables. Returns one row per date where they differ.

{% set reference %}
    select
        paid.paid_date as metric_date,
        sum(items.quantity) as units,
        sum(items.quantity * items.unit_price_fen - items.item_discount_fen) as revenue_fen
    from {{ ref('stg_order_system__order_items') }} as items
    inner join ({{ shoplens.order_system_paid_orders() }}) as paid
        on items.order_id = paid.order_id
    group by paid.paid_date
{% endset %}

{% set measures = {'units': 'units_sold', 'revenue_fen': 'product_revenue_yuan * 100'} %}

{{ shoplens.daily_totals_differ(reference, [
    {'relation': ref('agg_product__daily'), 'date_column': 'metric_date', 'measures': measures},
    {'relation': ref('agg_sku_ranking__daily'), 'date_column': 'period_start', 'measures': measures},
]) }}
