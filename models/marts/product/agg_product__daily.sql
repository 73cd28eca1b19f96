with

fct_page_views as (

    select * from {{ ref('fct_page_views') }}

),

fct_cart_additions as (

    select * from {{ ref('fct_cart_additions') }}

),

int_order_items_paid as (

    select * from {{ ref('int_order_items_paid') }}

),

dim_products as (

    select * from {{ ref('dim_products') }}

),

products as (

    select
        product_id,
        min(product_title) as product_title,
        min(category) as category
    from dim_products
    group by product_id

),

detail_views as (

    select
        view_date as metric_date,
        product_id,
        person_id
    from fct_page_views
    where page_type = 'product_detail' and product_id is not null

),

views as (

    select
        metric_date,
        product_id,
        count(*) as product_views,
        count(distinct person_id) as product_viewers
    from detail_views
    group by metric_date, product_id

),

carts as (

    select
        added_date as metric_date,
        product_id,
        count(*) as product_add_to_carts
    from fct_cart_additions
    group by added_date, product_id

),

sales as (

    select
        paid_date as metric_date,
        product_id,
        cast(sum(quantity) as bigint) as units_sold,
        cast(sum(revenue_fen) as bigint) as revenue_fen
    from int_order_items_paid
    group by paid_date, product_id

),

viewer_buyers as (

    -- Viewers of the product on the day who bought it (a paid order item) that same day.
    select
        detail_views.metric_date,
        detail_views.product_id,
        count(distinct detail_views.person_id) as viewers_who_bought
    from detail_views
    inner join int_order_items_paid
        on
            detail_views.metric_date = int_order_items_paid.paid_date
            and detail_views.product_id = int_order_items_paid.product_id
            and detail_views.person_id = int_order_items_paid.person_id
    group by detail_views.metric_date, detail_views.product_id

),

metric_keys as (

    select
        metric_date,
        product_id
    from views
    union
    select
        metric_date,
        product_id
    from carts
    union
    select
        metric_date,
        product_id
    from sales

),

final as (

    select
        metric_keys.metric_date,
        metric_keys.product_id,
        products.product_title,
        products.category,
        coalesce(views.product_views, 0) as product_views,
        coalesce(views.product_viewers, 0) as product_viewers,
        coalesce(carts.product_add_to_carts, 0) as product_add_to_carts,
        coalesce(sales.units_sold, 0) as units_sold,
        {{ shoplens.fen_to_yuan('coalesce(sales.revenue_fen, 0)') }} as product_revenue_yuan,
        {{ shoplens.ratio('coalesce(viewer_buyers.viewers_who_bought, 0)', 'views.product_viewers') }}
            as view_to_buy_rate
    from metric_keys
    left join products
        on metric_keys.product_id = products.product_id
    left join views
        on metric_keys.metric_date = views.metric_date and metric_keys.product_id = views.product_id
    left join carts
        on metric_keys.metric_date = carts.metric_date and metric_keys.product_id = carts.product_id
    left join sales
        on metric_keys.metric_date = sales.metric_date and metric_keys.product_id = sales.product_id
    left join viewer_buyers
        on metric_keys.metric_date = viewer_buyers.metric_date and metric_keys.product_id = viewer_buyers.product_id

)

select * from final
