-- Units and product revenue per ISO week (Monday start) to the fen: agg_sku_ranking__weekly,
-- summed over SKUs, equals the items of the order system's orders whose earliest successful
-- payment finished in that week, summed straight from the staged order-system tables.
-- Returns one row per week where they differ.

{% set reference %}
    select
        cast({{ dbt.date_trunc('week', 'paid.paid_date') }} as date) as metric_date,
        sum(items.quantity) as units,
        sum(items.quantity * items.unit_price_fen - items.item_discount_fen) as revenue_fen
    from {{ ref('stg_order_system__order_items') }} as items
    inner join ({{ shoplens.order_system_paid_orders() }}) as paid
        on items.order_id = paid.order_id
    group by cast({{ dbt.date_trunc('week', 'paid.paid_date') }} as date)
{% endset %}

{{ shoplens.daily_totals_differ(reference, [
    {'relation': ref('agg_sku_ranking__weekly'), 'date_column': 'period_start',
     'measures': {'units': 'units_sold', 'revenue_fen': 'product_revenue_yuan * 100'}},
]) }}
