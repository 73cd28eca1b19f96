{#
    The monitoring metrics (spec/metrics.md, 業務監控) per time bucket: payment attempts and
    successes (finished attempts by creation time), payment success rate, paid orders and GMV
    (by payment time), page views and active users (by event time). `grain` is '10min' or 'hour'
    (UTC-aligned buckets, see time_bucket; one row per bucket with data) or 'day' (reporting
    date). One definition for agg_monitoring__10min, __hourly and __daily.

    Incremental: each row records how far its inputs had been built (_events_through: the
    newest _sessionized_at of int_events_sessionized; _orders_through: the newest _loaded_at of
    the staged order-system tables read: payments, orders and consents; both never go back).
    - The order-system metrics (attempts, successes, paid orders, GMV) are recomputed for every
      bucket (one row per payment and per order: small) and compared with the rows here; the
      buckets where they differ are rewritten, wherever a late payment or order moved them.
    - The event metrics (page views, active users) are recomputed for the buckets of the event
      rows int_events_sessionized (re)wrote since (a late event, a late first login that
      changed a device's person), and for every bucket from the earliest event time that the
      consent changes loaded since reach (shoplens.consent_changed_devices: a withdrawal, or a
      first login as a member who withdrew, removes events that name no bucket any more).
      Other buckets keep theirs: the cost follows what arrived and the buckets it touches, not
      the history.
    A rewritten bucket that has no data any more is written with zeros and deleted by the
    post-hook delete_empty_monitoring_buckets.
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

{#-
    int_events_sessionized is read through ref() where it is read more than once: DuckDB
    materializes a CTE that is read more than once, which here copied every sessionized event
    on every run.
#}
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

attempts as (

    select
        {{ shoplens.monitoring_bucket('created_at', grain) }} as bucket,
        count(*) as payment_attempts,
        cast(sum(case when is_success then 1 else 0 end) as bigint) as successful_payments
    from fct_payments
    where is_finished
    group by {{ shoplens.monitoring_bucket('created_at', grain) }}

),

paid as (

    select
        {{ shoplens.monitoring_bucket('paid_at', grain) }} as bucket,
        count(*) as paid_orders,
        cast(sum(payable_fen) as bigint) as gmv_fen
    from int_orders_paid
    group by {{ shoplens.monitoring_bucket('paid_at', grain) }}

),

order_metrics as (

    -- The order system's metrics of every bucket: its tables are small (one row per payment
    -- and per order), so they are recomputed in full on every run.
    select
        coalesce(attempts.bucket, paid.bucket) as bucket,
        coalesce(attempts.payment_attempts, 0) as payment_attempts,
        coalesce(attempts.successful_payments, 0) as successful_payments,
        coalesce(paid.paid_orders, 0) as paid_orders,
        coalesce(paid.gmv_fen, 0) as gmv_fen
    from attempts
    full outer join paid
        on attempts.bucket = paid.bucket

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

    here as (

        select
            {{ bucket }} as bucket,
            payment_attempts,
            successful_payments,
            paid_orders,
            gmv_yuan,
            pv,
            active_users
        from {{ this }}

    ),

    order_changed_buckets as (

        -- Buckets whose order-system metrics differ from the rows here (new, changed or gone).
        select coalesce(order_metrics.bucket, here.bucket) as bucket
        from order_metrics
        full outer join here
            on order_metrics.bucket = here.bucket
        where
            coalesce(order_metrics.payment_attempts, 0) <> coalesce(here.payment_attempts, 0)
            or coalesce(order_metrics.successful_payments, 0) <> coalesce(here.successful_payments, 0)
            or coalesce(order_metrics.paid_orders, 0) <> coalesce(here.paid_orders, 0)
            or {{ shoplens.fen_to_yuan('coalesce(order_metrics.gmv_fen, 0)') }} <> coalesce(here.gmv_yuan, 0)

    ),

    consent_reach as (

        -- Events that consent changes loaded since the rows here were built removed name no
        -- bucket any more: the earliest event time those changes reach (a new change of a
        -- device or of a member, or a first login as a member with changes; see
        -- shoplens.consent_changed_devices).
        select min(changed.affected_from) as reached_from
        from (
            {{ shoplens.consent_changed_devices('(select orders_through from watermarks)') }}
        ) as changed

    ),

    event_buckets_recomputed as (

        -- The buckets of the event rows int_events_sessionized (re)wrote since (new events, and
        -- rows whose person or session changed), and every bucket here from the earliest event
        -- time the consent changes reach.
        select distinct {{ shoplens.monitoring_bucket('rewritten.event_at', grain) }} as bucket
        from {{ ref('int_events_sessionized') }} as rewritten
        where rewritten._sessionized_at > (select events_through from watermarks)
        union
        select here.bucket
        from here
        where here.bucket >= (select {{ shoplens.monitoring_bucket('reached_from', grain) }} from consent_reach)

    ),

{% endif %}

events as (

    select
        {{ shoplens.monitoring_bucket('event_at', grain) }} as bucket,
        cast(sum(case when event_name = 'page_view' then 1 else 0 end) as bigint) as pv,
        count(distinct person_id) as active_users
    from int_events_sessionized
    {%- if is_incremental() %}
    where {{ shoplens.monitoring_bucket('event_at', grain) }} in (select bucket from event_buckets_recomputed)
    {%- endif %}
    group by {{ shoplens.monitoring_bucket('event_at', grain) }}

),

bucket_keys as (

    {%- if is_incremental() %}
    -- Every bucket whose events or order metrics are recomputed; one that has no data any more
    -- is written with zeros, and the post-hook delete_empty_monitoring_buckets deletes it.
    select bucket from event_buckets_recomputed
    union
    select bucket from order_changed_buckets
    {%- else %}
    select bucket from events
    union
    select bucket from order_metrics
    {%- endif %}

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
        coalesce(order_metrics.payment_attempts, 0) as payment_attempts,
        coalesce(order_metrics.successful_payments, 0) as successful_payments,
        {{ shoplens.ratio('order_metrics.successful_payments', 'order_metrics.payment_attempts') }} as payment_success_rate,
        coalesce(order_metrics.paid_orders, 0) as paid_orders,
        {{ shoplens.fen_to_yuan('coalesce(order_metrics.gmv_fen, 0)') }} as gmv_yuan,
        {%- if is_incremental() %}
        -- A bucket recomputed for its order metrics only keeps its event metrics from here.
        case
            when recomputed.bucket is not null then coalesce(events.pv, 0)
            else coalesce(here.pv, 0)
        end as pv,
        case
            when recomputed.bucket is not null then coalesce(events.active_users, 0)
            else coalesce(here.active_users, 0)
        end as active_users,
        {%- else %}
        coalesce(events.pv, 0) as pv,
        coalesce(events.active_users, 0) as active_users,
        {%- endif %}
        (
            select coalesce(max(_sessionized_at), cast('1970-01-01' as timestamp))
            from (
                select built._sessionized_at from {{ ref('int_events_sessionized') }} as built
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
    left join order_metrics
        on bucket_keys.bucket = order_metrics.bucket
    {%- if is_incremental() %}
    left join event_buckets_recomputed as recomputed
        on bucket_keys.bucket = recomputed.bucket
    left join here
        on bucket_keys.bucket = here.bucket
    {%- endif %}

)

select * from final
{% endmacro %}


{#
    Post-hook of the monitoring marts: deletes the buckets the run found without any data (it
    writes them with zeros: every event excluded for consent, an order whose payment moved).
    A bucket with data has an active user, a finished payment attempt or a paid order.
#}
{% macro delete_empty_monitoring_buckets() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where active_users = 0 and payment_attempts = 0 and paid_orders = 0
    {%- endif -%}
{%- endmacro %}
