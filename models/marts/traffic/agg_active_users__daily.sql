with

int_persons_active_daily as (

    select * from {{ ref('int_persons_active_daily') }}

),

calendar as (

    select distinct activity_date as metric_date
    from int_persons_active_daily

),

windowed as (

    -- Each day with the activity of the 30 days ending on it (DAU: 1 day, WAU: 7, MAU: 30).
    select
        calendar.metric_date,
        int_persons_active_daily.person_id,
        int_persons_active_daily.activity_date
    from calendar
    inner join int_persons_active_daily
        on
            calendar.metric_date >= int_persons_active_daily.activity_date
            and cast({{ dbt.dateadd('day', -30, 'calendar.metric_date') }} as date)
            < int_persons_active_daily.activity_date

),

counted as (

    select
        metric_date,
        count(distinct case when activity_date = metric_date then person_id end) as dau,
        count(distinct case
            when activity_date > cast({{ dbt.dateadd('day', -7, 'metric_date') }} as date) then person_id
        end) as wau,
        count(distinct person_id) as mau
    from windowed
    group by metric_date

),

final as (

    select
        metric_date,
        dau,
        wau,
        mau,
        {{ shoplens.ratio('dau', 'mau') }} as dau_mau_ratio
    from counted

)

select * from final
