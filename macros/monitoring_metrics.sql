{#
    The monitoring metrics (spec/metrics.md, 業務監控) per time bucket: payment attempts and
    successes (finished attempts by creation time), payment success rate, paid orders and GMV
    (by payment time), page views and active users (by event time). `grain` is '10min' or 'hour'
    (UTC-aligned buckets, see time_bucket; one row per bucket with data) or 'day' (reporting
    date). One definition for agg_monitoring__10min, __hourly and __daily.

    Incremental: each row records how far its inputs had been built (_events_through: the
    newest _sessionized_at of int_events_sessionized; _orders_through: the newest _loaded_at of
    the staged order-system tables read: payments, orders and consents; both never go back). A
    run recomputes every bucket from the earliest one that rows built or loaded since then
    touch — late events, late payments, and analytics consent changes (from their changed_at:
    a late withdrawal removes events from then on) — and nothing before it, so its cost grows
    with what arrived, not with history. A bucket from there on that has no data any more (all
    its events excluded for consent) is deleted by the post-hook delete_stale_monitoring_buckets.
#}

{% macro monitoring_bucket(ts_expr, grain) -%}
    {%- if grain == '10min' -%}
        {{ shoplens.time_bucket(ts_expr, 600) }}
    {%- elif grain == 'hour' -%}
        {{ shoplens.time_bucket(ts_expr, 3600) }}
    {%- elif grain == 'day' -%}
        {{ shoplens.to_reporting_date(ts_expr) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("monitoring grain must be 10min, hour or day, not " ~ grain) }}
    {%- endif -%}
{%- endmacro %}

{% macro monitoring_metrics(grain) %}
{%- set bucket = 'metric_date' if grain == 'day' else 'bucket_start_at' -%}
with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

fct_payments as (

    select * from {{ ref('fct_payments') }}

),

int_orders_paid as (

    select * from {{ ref('int_orders_paid') }}

),

stg_order_system__payments as (

    select * from {{ ref('stg_order_system__payments') }}

),

stg_order_system__orders as (

    select * from {{ ref('stg_order_system__orders') }}

),

stg_order_system__consents as (

    select * from {{ ref('stg_order_system__consents') }}

),

{% if is_incremental() %}

    watermarks as (

        select
            -- Never null (a first run with no consented event or no order): nothing newer
            -- would ever compare greater than null.
            coalesce(max(_events_through), cast('1970-01-01' as timestamp)) as events_through,
            coalesce(max(_orders_through), cast('1970-01-01' as timestamp)) as orders_through
        from {{ this }}

    ),

    changed_buckets as (

        select {{ shoplens.monitoring_bucket('event_at', grain) }} as bucket
        from int_events_sessionized
        where _sessionized_at > (select events_through from watermarks)
        union all
        select {{ shoplens.monitoring_bucket('created_at', grain) }} as bucket
        from stg_order_system__payments
        where _loaded_at > (select orders_through from watermarks)
        union all
        select {{ shoplens.monitoring_bucket('finished_at', grain) }} as bucket
        from stg_order_system__payments
        where _loaded_at > (select orders_through from watermarks) and finished_at is not null
        union all
        select {{ shoplens.monitoring_bucket('int_orders_paid.paid_at', grain) }} as bucket
        from int_orders_paid
        inner join stg_order_system__orders
            on int_orders_paid.order_id = stg_order_system__orders.order_id
        where stg_order_system__orders._loaded_at > (select orders_through from watermarks)
        union all
        select {{ shoplens.monitoring_bucket('changed_at', grain) }} as bucket
        from stg_order_system__consents
        where consent_type = 'analytics' and _loaded_at > (select orders_through from watermarks)

    ),

    recompute_from as (

        select min(bucket) as bucket
        from changed_buckets

    ),

{% endif %}

events as (

    select
        {{ shoplens.monitoring_bucket('event_at', grain) }} as bucket,
        cast(sum(case when event_name = 'page_view' then 1 else 0 end) as bigint) as pv,
        count(distinct person_id) as active_users
    from int_events_sessionized
    {%- if is_incremental() %}
    where {{ shoplens.monitoring_bucket('event_at', grain) }} >= (select bucket from recompute_from)
    {%- endif %}
    group by {{ shoplens.monitoring_bucket('event_at', grain) }}

),

attempts as (

    select
        {{ shoplens.monitoring_bucket('created_at', grain) }} as bucket,
        count(*) as payment_attempts,
        cast(sum(case when is_success then 1 else 0 end) as bigint) as successful_payments
    from fct_payments
    where
        is_finished
        {%- if is_incremental() %}
        and {{ shoplens.monitoring_bucket('created_at', grain) }} >= (select bucket from recompute_from)
        {%- endif %}
    group by {{ shoplens.monitoring_bucket('created_at', grain) }}

),

paid as (

    select
        {{ shoplens.monitoring_bucket('paid_at', grain) }} as bucket,
        count(*) as paid_orders,
        cast(sum(payable_fen) as bigint) as gmv_fen
    from int_orders_paid
    {%- if is_incremental() %}
    where {{ shoplens.monitoring_bucket('paid_at', grain) }} >= (select bucket from recompute_from)
    {%- endif %}
    group by {{ shoplens.monitoring_bucket('paid_at', grain) }}

),

bucket_keys as (

    select bucket from events
    union
    select bucket from attempts
    union
    select bucket from paid

),

final as (

    select
        {%- if grain == 'day' %}
        bucket_keys.bucket as metric_date,
        {%- else %}
        bucket_keys.bucket as bucket_start_at,
        {{ shoplens.to_reporting_timestamp('bucket_keys.bucket') }} as bucket_start_local,
        {{ shoplens.to_reporting_date('bucket_keys.bucket') }} as bucket_date,
        {%- endif %}
        coalesce(attempts.payment_attempts, 0) as payment_attempts,
        coalesce(attempts.successful_payments, 0) as successful_payments,
        {{ shoplens.ratio('attempts.successful_payments', 'attempts.payment_attempts') }} as payment_success_rate,
        coalesce(paid.paid_orders, 0) as paid_orders,
        {{ shoplens.fen_to_yuan('coalesce(paid.gmv_fen, 0)') }} as gmv_yuan,
        coalesce(events.pv, 0) as pv,
        coalesce(events.active_users, 0) as active_users,
        (
            select coalesce(max(_sessionized_at), cast('1970-01-01' as timestamp))
            from (
                select _sessionized_at from int_events_sessionized
                {%- if is_incremental() %}
                union all
                select events_through as _sessionized_at from watermarks
                {%- endif %}
            ) as builds
        ) as _events_through,
        (
            select coalesce(max(_loaded_at), cast('1970-01-01' as timestamp))
            from (
                select _loaded_at from stg_order_system__payments
                union all
                select _loaded_at from stg_order_system__orders
                union all
                select _loaded_at from stg_order_system__consents
                {%- if is_incremental() %}
                union all
                select orders_through as _loaded_at from watermarks
                {%- endif %}
            ) as loads
        ) as _orders_through
    from bucket_keys
    left join events
        on bucket_keys.bucket = events.bucket
    left join attempts
        on bucket_keys.bucket = attempts.bucket
    left join paid
        on bucket_keys.bucket = paid.bucket

)

select * from final
{% endmacro %}


{#
    Post-hook of the monitoring marts. The rows the run wrote carry the newest watermarks; an
    older row whose bucket has no data any more (all its events excluded for consent) is
    deleted. Only buckets from the earliest analytics consent change loaded after those older
    rows were built are checked, so a run without consent changes checks nothing.
#}
{% macro delete_stale_monitoring_buckets(grain) -%}
    {%- if is_incremental() -%}
        {%- set bucket = 'metric_date' if grain == 'day' else 'bucket_start_at' -%}
        {%- set is_older -%}
            (
                {{ this.identifier }}._events_through < (select max(_events_through) from {{ this }})
                or {{ this.identifier }}._orders_through < (select max(_orders_through) from {{ this }})
            )
        {%- endset -%}
        delete from {{ this }}
        where
            {{ is_older }}
            and {{ bucket }} >= (
                select min({{ shoplens.monitoring_bucket('changed_at', grain) }})
                from {{ ref('stg_order_system__consents') }}
                where
                    consent_type = 'analytics'
                    and _loaded_at > (
                        select max(older._orders_through) from {{ this }} as older
                        where
                            older._events_through < (select max(_events_through) from {{ this }})
                            or older._orders_through < (select max(_orders_through) from {{ this }})
                    )
            )
            and not exists (
                select 1 from {{ ref('int_events_sessionized') }} as events
                where {{ shoplens.monitoring_bucket('events.event_at', grain) }} = {{ this.identifier }}.{{ bucket }}
            )
            and not exists (
                select 1 from {{ ref('fct_payments') }} as payments
                where
                    payments.is_finished
                    and {{ shoplens.monitoring_bucket('payments.created_at', grain) }} = {{ this.identifier }}.{{ bucket }}
            )
            and not exists (
                select 1 from {{ ref('int_orders_paid') }} as paid
                where {{ shoplens.monitoring_bucket('paid.paid_at', grain) }} = {{ this.identifier }}.{{ bucket }}
            )
    {%- endif -%}
{%- endmacro %}
