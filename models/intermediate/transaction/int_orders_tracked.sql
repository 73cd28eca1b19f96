{#
    One row per order id seen in a valid transaction event (submit_order, pay_success): the
    session in which it was first submitted (consented events only) and whether its
    pay_success was tracked (any valid delivery). Joins the order system to the mini program's
    tracking (order channel, tracking coverage).
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

tracked_events as (

    -- Every valid delivery counts as tracked, consented or not: coverage measures the
    -- tracking, and an event excluded for consent was tracked.
    select
        order_id,
        event_name
    from stg_mini_program__events
    where
        is_conforming
        and event_name in ('submit_order', 'pay_success')
        and order_id is not null

),

submit_events as (

    -- Sessions come from consented events only (int_events_sessionized).
    select
        stg_mini_program__events.order_id,
        int_events_sessionized.session_id,
        row_number() over (
            partition by stg_mini_program__events.order_id
            order by
                int_events_sessionized.event_at,
                int_events_sessionized.received_at,
                int_events_sessionized.event_id
        ) as event_rank
    from int_events_sessionized
    inner join stg_mini_program__events
        on int_events_sessionized.event_id = stg_mini_program__events.event_id
    where
        int_events_sessionized.event_name = 'submit_order'
        and stg_mini_program__events.order_id is not null

),

orders as (

    select
        order_id,
        max(case when event_name = 'pay_success' then 1 else 0 end) = 1 as has_pay_success
    from tracked_events
    group by order_id

),

final as (

    select
        orders.order_id,
        submit_events.session_id as submit_session_id,
        orders.has_pay_success
    from orders
    left join submit_events
        on
            orders.order_id = submit_events.order_id
            and submit_events.event_rank = 1

)

select * from final
