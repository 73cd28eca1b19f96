{#
    One row per valid add_to_cart event (spec/metrics.md, product_add_to_carts): the product and
    SKU added, the units, the person and session, dated by the event's reporting date.
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

final as (

    select
        int_events_sessionized.event_id as cart_addition_id,
        int_events_sessionized.session_id,
        int_events_sessionized.person_id,
        int_events_sessionized.event_at as added_at,
        int_events_sessionized.event_date as added_date,
        int_events_sessionized.product_id,
        int_events_consented.sku_id,
        int_events_consented.quantity
    from int_events_sessionized
    inner join int_events_consented
        on int_events_sessionized.event_id = int_events_consented.event_id
    where int_events_sessionized.event_name = 'add_to_cart'

)

select * from final
