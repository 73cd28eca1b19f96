with

int_persons_first_seen as (

    select * from {{ ref('int_persons_first_seen') }}

),

int_persons_active_daily as (

    select * from {{ ref('int_persons_active_daily') }}

),

int_orders_paid as (

    select * from {{ ref('int_orders_paid') }}

),

int_reporting_dates as (

    select * from {{ ref('int_reporting_dates') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

persons as (

    select person_id from int_persons_first_seen
    union
    select person_id from int_orders_paid

),

activity as (

    select
        int_persons_active_daily.person_id,
        max(int_persons_active_daily.activity_date) as last_active_date,
        -- The latest active day before the last 7 days (for "reactivated").
        max(
            case
                when
                    int_persons_active_daily.activity_date
                    <= cast({{ dbt.dateadd('day', -7, 'int_reporting_dates.last_complete_date') }} as date)
                    then int_persons_active_daily.activity_date
            end
        ) as previous_active_date
    from int_persons_active_daily
    cross join int_reporting_dates
    where int_persons_active_daily.activity_date <= int_reporting_dates.last_complete_date
    group by int_persons_active_daily.person_id

),

purchases as (

    select
        person_id,
        min(paid_at) as first_purchase_at,
        max(paid_date) as last_purchase_date,
        count(*) as paid_orders,
        sum(payable_fen) as gmv_fen
    from int_orders_paid
    group by person_id

),

profiled as (

    select
        persons.person_id,
        int_persons_first_seen.first_event_at as first_seen_at,
        int_persons_first_seen.first_event_date as first_seen_date,
        first_sessions.channel as first_channel,
        purchases.first_purchase_at,
        coalesce(purchases.paid_orders, 0) as paid_orders,
        {{ shoplens.fen_to_yuan('coalesce(purchases.gmv_fen, 0)') }} as gmv_yuan,
        activity.last_active_date,
        activity.previous_active_date,
        purchases.last_purchase_date,
        int_reporting_dates.last_complete_date as as_of_date,
        {{ dbt.datediff('activity.last_active_date', 'int_reporting_dates.last_complete_date', 'day') }}
            as days_since_active,
        {{ dbt.datediff('purchases.last_purchase_date', 'int_reporting_dates.last_complete_date', 'day') }}
            as days_since_purchase,
        {{ dbt.datediff('int_persons_first_seen.first_event_date', 'int_reporting_dates.last_complete_date', 'day') }}
            as days_since_first_seen,
        {{ dbt.datediff('activity.previous_active_date', 'int_reporting_dates.last_complete_date', 'day') }}
            as days_since_previous_active
    from persons
    cross join int_reporting_dates
    left join int_persons_first_seen
        on persons.person_id = int_persons_first_seen.person_id
    left join fct_sessions as first_sessions
        on int_persons_first_seen.first_session_id = first_sessions.session_id
    left join activity
        on persons.person_id = activity.person_id
    left join purchases
        on persons.person_id = purchases.person_id

),

final as (

    select
        person_id,
        first_seen_at,
        first_seen_date,
        first_channel,
        first_purchase_at,
        paid_orders,
        gmv_yuan,
        last_active_date,
        as_of_date,
        -- RFM quintiles among buyers (5 = best): most recent purchase, most paid orders, most GMV.
        cast(case when paid_orders > 0 then ntile(5) over (
            partition by paid_orders > 0 order by days_since_purchase desc, person_id asc
        ) end as integer) as rfm_recency_score,
        cast(case when paid_orders > 0 then ntile(5) over (
            partition by paid_orders > 0 order by paid_orders asc, person_id asc
        ) end as integer) as rfm_frequency_score,
        cast(case when paid_orders > 0 then ntile(5) over (
            partition by paid_orders > 0 order by gmv_yuan asc, person_id asc
        ) end as integer) as rfm_monetary_score,
        -- Lifecycle as of the last complete day (thresholds in the model docs):
        case
            when days_since_first_seen < 7 then 'new'
            when days_since_active < 7 and days_since_previous_active > 37 then 'reactivated'
            when days_since_active < 7 then 'active'
            when days_since_active <= 30 then 'dormant'
            else 'churned'
        end as lifecycle_stage
    from profiled

)

select * from final
