with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

int_clicks_matched as (

    select * from {{ ref('int_clicks_matched') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

exposure_events as (

    select
        int_events_sessionized.session_id,
        int_events_sessionized.event_at,
        int_events_sessionized.event_sequence,
        stg_mini_program__events.module,
        stg_mini_program__events.item_type,
        stg_mini_program__events.item_id,
        stg_mini_program__events.item_position,
        row_number() over (
            partition by
                int_events_sessionized.session_id,
                stg_mini_program__events.module,
                stg_mini_program__events.item_id
            order by int_events_sessionized.event_sequence
        ) as exposure_rank,
        count(*) over (
            partition by
                int_events_sessionized.session_id,
                stg_mini_program__events.module,
                stg_mini_program__events.item_id
        ) as exposure_event_count
    from int_events_sessionized
    inner join stg_mini_program__events
        on int_events_sessionized.event_id = stg_mini_program__events.event_id
    where int_events_sessionized.event_name = 'exposure'

),

exposures as (

    -- Deduplicated: the first exposure of each (session, module, item).
    select *
    from exposure_events
    where exposure_rank = 1

),

first_clicks as (

    -- The first click on the same item in the same module after the first exposure.
    select
        exposures.session_id,
        exposures.module,
        exposures.item_id,
        min(int_clicks_matched.clicked_at) as clicked_at
    from exposures
    inner join int_clicks_matched
        on
            exposures.session_id = int_clicks_matched.session_id
            and exposures.module = int_clicks_matched.module
            and exposures.item_id = int_clicks_matched.item_id
            and exposures.event_sequence < int_clicks_matched.click_sequence
    group by exposures.session_id, exposures.module, exposures.item_id

),

final as (

    select
        {{ dbt.hash(dbt.concat(["exposures.session_id", "'/'", "exposures.module", "'/'", "exposures.item_id"])) }}
            as exposure_id,
        exposures.session_id,
        fct_sessions.person_id,
        fct_sessions.session_date,
        fct_sessions.channel,
        exposures.module,
        exposures.item_type,
        exposures.item_id,
        exposures.item_position,
        exposures.event_at as first_exposed_at,
        cast(exposures.exposure_event_count as bigint) as exposure_event_count,
        first_clicks.clicked_at,
        first_clicks.clicked_at is not null as is_clicked
    from exposures
    inner join fct_sessions
        on exposures.session_id = fct_sessions.session_id
    left join first_clicks
        on
            exposures.session_id = first_clicks.session_id
            and exposures.module = first_clicks.module
            and exposures.item_id = first_clicks.item_id

)

select * from final
