{#
    One row per distinct exposure (spec/metrics.md, ctr): session, module and item. Repeated
    exposure events of the same item in the same module and session are one exposure, with the
    position, item type, time and sequence of the first. Shared by fct_exposures and
    int_clicks_matched.
#}

with

int_events_sessionized as (

    select * from {{ ref('int_events_sessionized') }}

),

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

exposure_events as (

    select
        int_events_sessionized.session_id,
        int_events_sessionized.event_at,
        int_events_sessionized.event_sequence,
        int_events_consented.module,
        int_events_consented.item_type,
        int_events_consented.item_id,
        int_events_consented.item_position,
        row_number() over (
            partition by
                int_events_sessionized.session_id,
                int_events_consented.module,
                int_events_consented.item_id
            order by int_events_sessionized.event_sequence
        ) as exposure_rank,
        count(*) over (
            partition by
                int_events_sessionized.session_id,
                int_events_consented.module,
                int_events_consented.item_id
        ) as exposure_event_count
    from int_events_sessionized
    inner join int_events_consented
        on int_events_sessionized.event_id = int_events_consented.event_id
    where int_events_sessionized.event_name = 'exposure'

),

final as (

    select
        session_id,
        module,
        item_type,
        item_id,
        item_position,
        event_at as first_exposed_at,
        event_sequence as first_exposure_sequence,
        cast(exposure_event_count as bigint) as exposure_event_count
    from exposure_events
    where exposure_rank = 1

)

select * from final
