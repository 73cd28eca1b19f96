{{ config(materialized='table') }}

{#
    One row per alert rule (seed alert_rules) and complete 10-minute window: the window's value
    of the rule's metric, its baseline, the change, and whether the rule fires (is_alert). The
    rows with is_alert are the alert candidates `shoplens monitor` notifies; the latest
    evaluation of a rule tells it when an incident has recovered.

    Windows run from the first bucket of agg_monitoring__10min to the last complete one (its end
    at or before the collector's newest received_at); a window without data counts as zero (a
    rate as null), so a total outage is evaluated too. A baseline window before the data starts
    is missing, and a rule does not fire without its full baseline.
#}

{%- set metrics = ['payment_attempts', 'successful_payments', 'paid_orders', 'gmv_yuan', 'pv', 'active_users'] %}
{%- set max_offsets = 60 %}

with

agg_monitoring__10min as (

    select * from {{ ref('agg_monitoring__10min') }}

),

alert_rules as (

    select * from {{ ref('alert_rules') }}

),

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

first_window as (

    select min(bucket_start_at) as first_window_at
    from agg_monitoring__10min

),

collector_clock as (

    -- The window holding the collector's newest received_at is still filling: not complete.
    select {{ shoplens.time_bucket('max(received_at)', 600) }} as incomplete_window_at
    from stg_mini_program__events

),

bounds as (

    select
        first_window.first_window_at,
        collector_clock.incomplete_window_at
    from first_window
    cross join collector_clock

),

days as (

    select cast(spine.date_day as date) as window_day
    from {{ ref('metricflow_time_spine') }} as spine
    cross join bounds
    where
        spine.date_day >= cast(bounds.first_window_at as date)
        and spine.date_day <= cast(bounds.incomplete_window_at as date)

),

slots as (

    {% for slot in range(144) %}
        select {{ slot }} as slot
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

windows as (

    select {{ dbt.dateadd('minute', 'slots.slot * 10', 'cast(days.window_day as timestamp)') }} as window_start_at
    from days
    cross join slots

),

complete_windows as (

    select windows.window_start_at
    from windows
    cross join bounds
    where
        windows.window_start_at >= bounds.first_window_at
        and windows.window_start_at < bounds.incomplete_window_at

),

window_values as (

    -- One row per window and metric: its value, and for a rate its numerator and denominator
    -- (a baseline over several windows is the ratio of their sums).
    {% for metric in metrics %}
        select
            complete_windows.window_start_at,
            '{{ metric }}' as metric,
            cast(coalesce(agg_monitoring__10min.{{ metric }}, 0) as {{ shoplens.type_double() }}) as metric_value,
            cast(coalesce(agg_monitoring__10min.{{ metric }}, 0) as {{ shoplens.type_double() }}) as numerator,
            cast(null as {{ shoplens.type_double() }}) as denominator
        from complete_windows
        left join agg_monitoring__10min
            on complete_windows.window_start_at = agg_monitoring__10min.bucket_start_at
        union all
    {% endfor %}
    select
        complete_windows.window_start_at,
        'payment_success_rate' as metric,
        cast(agg_monitoring__10min.payment_success_rate as {{ shoplens.type_double() }}) as metric_value,
        cast(coalesce(agg_monitoring__10min.successful_payments, 0) as {{ shoplens.type_double() }}) as numerator,
        cast(coalesce(agg_monitoring__10min.payment_attempts, 0) as {{ shoplens.type_double() }}) as denominator
    from complete_windows
    left join agg_monitoring__10min
        on complete_windows.window_start_at = agg_monitoring__10min.bucket_start_at

),

offsets as (

    {% for k in range(1, max_offsets + 1) %}
        select {{ k }} as k
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

rule_offsets as (

    -- The baseline windows of each rule, as minutes before the evaluated window.
    select
        alert_rules.rule_id,
        case alert_rules.baseline
            when 'previous_windows' then offsets.k * 10
            when 'same_window_last_week' then 7 * 1440
            when 'same_time_of_day' then offsets.k * 1440
        end as offset_minutes
    from alert_rules
    inner join offsets
        on
            offsets.k <= case
                when alert_rules.baseline in ('previous_windows', 'same_time_of_day')
                    then alert_rules.baseline_windows
                when alert_rules.baseline = 'same_window_last_week' then 1
                else 0
            end

),

evaluated as (

    select
        alert_rules.rule_id,
        window_values.window_start_at,
        window_values.metric_value,
        window_values.denominator
    from alert_rules
    inner join window_values
        on alert_rules.metric = window_values.metric

),

baselines as (

    select
        evaluated.rule_id,
        evaluated.window_start_at,
        count(past.window_start_at) as baseline_windows_found,
        sum(past.metric_value) as sum_value,
        sum(past.metric_value * past.metric_value) as sum_value_squared,
        sum(past.numerator) as sum_numerator,
        sum(past.denominator) as sum_denominator
    from evaluated
    inner join alert_rules
        on evaluated.rule_id = alert_rules.rule_id
    inner join rule_offsets
        on evaluated.rule_id = rule_offsets.rule_id
    left join window_values as past
        on
            alert_rules.metric = past.metric
            and past.window_start_at
            = {{ dbt.dateadd('minute', '-rule_offsets.offset_minutes', 'evaluated.window_start_at') }}
    group by evaluated.rule_id, evaluated.window_start_at

),

volumes as (

    select
        window_start_at,
        metric,
        metric_value
    from window_values

),

scored as (

    select
        alert_rules.rule_id,
        alert_rules.rule_label_en,
        alert_rules.rule_label_zh,
        alert_rules.metric,
        alert_rules.baseline as baseline_kind,
        alert_rules.direction,
        alert_rules.severity,
        alert_rules.channels,
        alert_rules.threshold_relative,
        alert_rules.threshold_absolute,
        alert_rules.threshold_zscore,
        alert_rules.min_volume,
        alert_rules.quiet_hours_start,
        alert_rules.quiet_hours_end,
        evaluated.window_start_at,
        evaluated.metric_value,
        baselines.baseline_windows_found,
        coalesce(volumes.metric_value, 0) as volume,
        case
            when alert_rules.baseline = 'static' then 1
            when alert_rules.baseline = 'same_window_last_week' then 1
            else alert_rules.baseline_windows
        end as baseline_windows_expected,
        case
            when alert_rules.baseline = 'static' then alert_rules.static_value
            when evaluated.denominator is not null and alert_rules.baseline <> 'same_time_of_day'
                then baselines.sum_numerator / nullif(baselines.sum_denominator, 0)
            else baselines.sum_value / nullif(baselines.baseline_windows_found, 0)
        end as baseline_value,
        case
            when alert_rules.baseline = 'same_time_of_day' and baselines.baseline_windows_found > 1
                then sqrt(greatest(
                    (
                        baselines.sum_value_squared
                        - baselines.sum_value * baselines.sum_value / baselines.baseline_windows_found
                    ) / (baselines.baseline_windows_found - 1),
                    0
                ))
        end as baseline_stddev
    from evaluated
    inner join alert_rules
        on evaluated.rule_id = alert_rules.rule_id
    left join baselines
        on
            evaluated.rule_id = baselines.rule_id
            and evaluated.window_start_at = baselines.window_start_at
    left join volumes
        on
            evaluated.window_start_at = volumes.window_start_at
            and alert_rules.volume_metric = volumes.metric

),

changes as (

    select
        *,
        metric_value - baseline_value as absolute_change,
        (metric_value - baseline_value) / nullif(baseline_value, 0) as relative_change,
        (metric_value - baseline_value) / nullif(baseline_stddev, 0) as zscore,
        {{ shoplens.to_reporting_timestamp('window_start_at') }} as window_start_local
    from scored

),

judged as (

    select
        *,
        (
            metric_value is not null
            and baseline_value is not null
            and coalesce(baseline_windows_found, 1) >= baseline_windows_expected
            and case direction
                when 'drop' then absolute_change < 0
                when 'spike' then absolute_change > 0
                else absolute_change <> 0
            end
            and (threshold_relative is not null or threshold_absolute is not null or threshold_zscore is not null)
            and (threshold_relative is null or abs(relative_change) >= threshold_relative)
            and (threshold_absolute is null or abs(absolute_change) >= threshold_absolute)
            and (threshold_zscore is null or abs(zscore) >= threshold_zscore)
        ) as is_breach,
        volume >= coalesce(min_volume, 0) as has_volume,
        case
            when quiet_hours_start is null or quiet_hours_end is null then false
            else {{ shoplens.minute_of_day_in('window_start_local', 'quiet_hours_start', 'quiet_hours_end') }}
        end as is_quiet_hours
    from changes

),

final as (

    select
        cast(rule_id as {{ dbt.type_string() }}) as rule_id,
        cast(rule_label_en as {{ dbt.type_string() }}) as rule_label_en,
        cast(rule_label_zh as {{ dbt.type_string() }}) as rule_label_zh,
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(baseline_kind as {{ dbt.type_string() }}) as baseline_kind,
        cast(severity as {{ dbt.type_string() }}) as severity,
        cast(channels as {{ dbt.type_string() }}) as channels,
        window_start_at,
        {{ dbt.dateadd('minute', 10, 'window_start_at') }} as window_end_at,
        window_start_local,
        metric_value,
        baseline_value,
        absolute_change,
        relative_change,
        zscore,
        volume,
        cast(baseline_windows_found as integer) as baseline_windows_found,
        coalesce(is_breach, false) as is_breach,
        has_volume,
        is_quiet_hours,
        coalesce(is_breach, false) and has_volume and not is_quiet_hours as is_alert
    from judged

)

select * from final
