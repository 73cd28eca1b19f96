with

int_exposures_deduplicated as (

    select * from {{ ref('int_exposures_deduplicated') }}

),

int_clicks_matched as (

    select * from {{ ref('int_clicks_matched') }}

),

fct_sessions as (

    select * from {{ ref('fct_sessions') }}

),

first_clicks as (

    -- The first click on the same item in the same module after the first exposure.
    select
        int_exposures_deduplicated.session_id,
        int_exposures_deduplicated.module,
        int_exposures_deduplicated.item_id,
        min(int_clicks_matched.clicked_at) as clicked_at
    from int_exposures_deduplicated
    inner join int_clicks_matched
        on
            int_exposures_deduplicated.session_id = int_clicks_matched.session_id
            and int_exposures_deduplicated.module = int_clicks_matched.module
            and int_exposures_deduplicated.item_id = int_clicks_matched.item_id
            and int_exposures_deduplicated.first_exposure_sequence < int_clicks_matched.click_sequence
    group by
        int_exposures_deduplicated.session_id,
        int_exposures_deduplicated.module,
        int_exposures_deduplicated.item_id

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "int_exposures_deduplicated.session_id", "'/'",
            "int_exposures_deduplicated.module", "'/'",
            "int_exposures_deduplicated.item_id",
        ])) }} as exposure_id,
        int_exposures_deduplicated.session_id,
        fct_sessions.person_id,
        fct_sessions.session_date,
        fct_sessions.channel,
        int_exposures_deduplicated.module,
        int_exposures_deduplicated.item_type,
        int_exposures_deduplicated.item_id,
        int_exposures_deduplicated.item_position,
        int_exposures_deduplicated.first_exposed_at,
        int_exposures_deduplicated.exposure_event_count,
        first_clicks.clicked_at,
        first_clicks.clicked_at is not null as is_clicked
    from int_exposures_deduplicated
    inner join fct_sessions
        on int_exposures_deduplicated.session_id = fct_sessions.session_id
    left join first_clicks
        on
            int_exposures_deduplicated.session_id = first_clicks.session_id
            and int_exposures_deduplicated.module = first_clicks.module
            and int_exposures_deduplicated.item_id = first_clicks.item_id

)

select * from final
