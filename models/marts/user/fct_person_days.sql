{#
    One row per person, reporting date and channel with a valid event that day in a session of
    that channel (spec/metrics.md: active users, new users, retention). The fact behind the
    semantic layer's person counts: active users are the distinct persons of a day's rows; a
    person is new on the row that holds their first event (its date and the channel of its
    session), so new users add up over channels while active users do not. Cohorts (retention)
    are by first_seen_date and first_channel.
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

int_persons_first_seen as (

    select * from {{ ref('int_persons_first_seen') }}

),

int_reporting_dates as (

    select * from {{ ref('int_reporting_dates') }}

),

person_day_channels as (

    select distinct
        int_events_sessionized.person_id,
        int_events_sessionized.event_date as activity_date,
        fct_sessions.channel
    from int_events_sessionized
    inner join fct_sessions
        on int_events_sessionized.session_id = fct_sessions.session_id

),

first_seen as (

    select
        int_persons_first_seen.person_id,
        int_persons_first_seen.first_event_date,
        fct_sessions.channel as first_channel
    from int_persons_first_seen
    inner join fct_sessions
        on int_persons_first_seen.first_session_id = fct_sessions.session_id

),

joined as (

    select
        person_day_channels.person_id,
        person_day_channels.activity_date,
        person_day_channels.channel,
        first_seen.first_event_date,
        first_seen.first_channel,
        int_reporting_dates.last_complete_date
    from person_day_channels
    inner join first_seen
        on person_day_channels.person_id = first_seen.person_id
    cross join int_reporting_dates

),

final as (

    select
        person_id,
        activity_date,
        channel,
        first_event_date as first_seen_date,
        first_channel,
        cast(
            {{ dbt.datediff('first_event_date', 'activity_date', 'day') }}
            as integer
        ) as days_since_first_seen,
        -- Retention on day N of the person's cohort is defined once day first_seen_date + N is
        -- complete, i.e. when N <= cohort_complete_days.
        cast(
            {{ dbt.datediff('first_event_date', 'last_complete_date', 'day') }}
            as integer
        ) as cohort_complete_days,
        coalesce(activity_date = first_event_date and channel = first_channel, false) as is_new_user
    from joined

)

select * from final
