{#
    SKU sales ranking (SKU銷售排行, spec/metrics.md) per period: `day` (reporting date) or
    `week` (ISO week, starting Monday): units sold and product revenue of the SKU's items in
    orders paid in the period, ranked by revenue, then units, then sku_id (so ranks never tie;
    sku_id compares byte by byte on every engine). Only SKUs with a sale in the period are
    ranked. One definition for agg_sku_ranking__daily and __weekly.
#}
{% macro sku_ranking(period) %}
{%- if period == 'day' -%}
    {%- set period_start = 'paid_date' -%}
{%- else -%}
    {%- set period_start = 'cast(' ~ dbt.date_trunc(period, 'paid_date') ~ ' as date)' -%}
{%- endif -%}
with

int_order_items_paid as (

    select * from {{ ref('int_order_items_paid') }}

),

sku_sales as (

    select
        {{ period_start }} as period_start,
        sku_id,
        product_id,
        cast(sum(quantity) as bigint) as units_sold,
        cast(sum(revenue_fen) as bigint) as revenue_fen
    from int_order_items_paid
    group by {{ period_start }}, sku_id, product_id

),

final as (

    select
        period_start,
        sku_id,
        product_id,
        units_sold,
        {{ shoplens.fen_to_yuan('revenue_fen') }} as product_revenue_yuan,
        cast(row_number() over (
            partition by period_start
            order by revenue_fen desc, units_sold desc, {{ shoplens.bytewise("sku_id") }} asc
        ) as integer) as sku_rank
    from sku_sales

)

select * from final
{% endmacro %}
