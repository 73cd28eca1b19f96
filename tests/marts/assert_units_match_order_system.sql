-- Units and product revenue to the fen (spec/metrics.md, Product): per reporting date,
-- agg_product__daily and agg_sku_ranking__daily (summed over products / SKUs) equal the items
-- of the order system's orders whose earliest successful payment finished that day, summed
-- straight from the staged order-system tables. Returns one row per date where they differ.

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
        sum(items.quantity) as units,
        sum(items.quantity * items.unit_price_fen - items.item_discount_fen) as revenue_fen
    from {{ ref('stg_order_system__order_items') }} as items
    inner join first_success
        on items.order_id = first_success.order_id
    group by {{ shoplens.to_reporting_date('first_success.paid_at') }}

),

products as (

    select
        metric_date,
        sum(units_sold) as units,
        sum(product_revenue_yuan * 100) as revenue_fen
    from {{ ref('agg_product__daily') }}
    group by metric_date

),

skus as (

    select
        period_start as metric_date,
        sum(units_sold) as units,
        sum(product_revenue_yuan * 100) as revenue_fen
    from {{ ref('agg_sku_ranking__daily') }}
    group by period_start

),

compared as (

    select
        coalesce(direct.metric_date, products.metric_date, skus.metric_date) as metric_date,
        coalesce(direct.units, 0) as direct_units,
        coalesce(products.units, 0) as product_units,
        coalesce(skus.units, 0) as sku_units,
        coalesce(direct.revenue_fen, 0) as direct_revenue_fen,
        coalesce(products.revenue_fen, 0) as product_revenue_fen,
        coalesce(skus.revenue_fen, 0) as sku_revenue_fen
    from direct
    full outer join products
        on direct.metric_date = products.metric_date
    full outer join skus
        on coalesce(direct.metric_date, products.metric_date) = skus.metric_date

)

select *
from compared
where
    direct_units <> product_units
    or direct_units <> sku_units
    or direct_revenue_fen <> product_revenue_fen
    or direct_revenue_fen <> sku_revenue_fen
