{#
    One row per valid click on an exposable item (the click events of seed
    tracking_plan__click_targets), with the module and item it clicked and whether the same
    session exposed that item in that module before it. The click's own `module` property wins
    over the seed's module when sent; the item id comes from the property the seed names.
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

tracking_plan__click_targets as (

    select * from {{ ref('tracking_plan__click_targets') }}

),

int_exposures_deduplicated as (

    select * from {{ ref('int_exposures_deduplicated') }}

),

clicks as (

    select
        int_events_sessionized.event_id as click_id,
        int_events_sessionized.session_id,
        int_events_sessionized.event_name,
        int_events_sessionized.event_at as clicked_at,
        int_events_sessionized.event_sequence as click_sequence,
        cast(
            coalesce(int_events_consented.module, tracking_plan__click_targets.module)
            as {{ dbt.type_string() }}
        ) as module,
        {{ shoplens.event_property_as_text(
            'int_events_consented', 'tracking_plan__click_targets.item_id_property'
        ) }} as item_id,
        int_events_consented.item_position
    from int_events_sessionized
    inner join tracking_plan__click_targets
        on int_events_sessionized.event_name = tracking_plan__click_targets.event_name
    inner join int_events_consented
        on int_events_sessionized.event_id = int_events_consented.event_id

),

final as (

    select
        clicks.click_id,
        clicks.session_id,
        clicks.event_name,
        clicks.clicked_at,
        clicks.click_sequence,
        clicks.module,
        clicks.item_id,
        clicks.item_position,
        coalesce(
            int_exposures_deduplicated.first_exposure_sequence < clicks.click_sequence, false
        ) as has_prior_exposure
    from clicks
    left join int_exposures_deduplicated
        on
            clicks.session_id = int_exposures_deduplicated.session_id
            and clicks.module = int_exposures_deduplicated.module
            and clicks.item_id = int_exposures_deduplicated.item_id

)

select * from final
