with

int_persons_first_seen as (

    select * from {{ ref('int_persons_first_seen') }}

),

int_persons_active_daily as (

    select * from {{ ref('int_persons_active_daily') }}

),

int_reporting_dates as (

    select * from {{ ref('int_reporting_dates') }}

),

offsets as (

    {% for n in var('retention_days') %}
        select cast({{ n }} as integer) as day_n
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

cohort_days as (

    select
        int_persons_first_seen.person_id,
        int_persons_first_seen.first_event_date as cohort_date,
        offsets.day_n,
        cast({{ dbt.dateadd('day', 'offsets.day_n', 'int_persons_first_seen.first_event_date') }} as date)
            as target_date
    from int_persons_first_seen
    cross join offsets

),

final as (

    -- Retention on day N exactly (spec/metrics.md): of the persons new on the cohort date, the
    -- share active on cohort date + N; only once that day is complete.
    select
        cohort_days.cohort_date,
        cohort_days.day_n,
        count(*) as cohort_size,
        count(int_persons_active_daily.person_id) as retained_users,
        {{ shoplens.ratio('count(int_persons_active_daily.person_id)', 'count(*)') }} as retention_rate
    from cohort_days
    cross join int_reporting_dates
    left join int_persons_active_daily
        on
            cohort_days.person_id = int_persons_active_daily.person_id
            and cohort_days.target_date = int_persons_active_daily.activity_date
    where cohort_days.target_date <= int_reporting_dates.last_complete_date
    group by cohort_days.cohort_date, cohort_days.day_n

)

select * from final
