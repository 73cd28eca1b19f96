{#
    One row per order id seen in a valid transaction event (submit_order, pay_success): the
    session in which it was first submitted and whether its pay_success was tracked. Joins the
    order system to the mini program's tracking (order channel, tracking coverage).
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

order_events as (

    select
        stg_mini_program__events.order_id,
        int_events_sessionized.event_name,
        int_events_sessionized.session_id,
        row_number() over (
            partition by stg_mini_program__events.order_id, int_events_sessionized.event_name
            order by
                int_events_sessionized.event_at,
                int_events_sessionized.received_at,
                int_events_sessionized.event_id
        ) as event_rank
    from int_events_sessionized
    inner join stg_mini_program__events
        on int_events_sessionized.event_id = stg_mini_program__events.event_id
    where
        int_events_sessionized.event_name in ('submit_order', 'pay_success')
        and stg_mini_program__events.order_id is not null

),

final as (

    select
        order_id,
        max(case when event_name = 'submit_order' and event_rank = 1 then session_id end) as submit_session_id,
        max(case when event_name = 'pay_success' then 1 else 0 end) = 1 as has_pay_success
    from order_events
    group by order_id

)

select * from final
