{%- set keys = shoplens.event_property_names() -%}
{%- set props = 'picked.picked_properties' -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}

with

source as (

    select raw_events.*
    from {{ source('mini_program', 'events') }} as raw_events
    {% if is_incremental() %}
        -- The look-back (shoplens.loaded_since) re-reads the files loaded up to
        -- staging_lookback_minutes before the newest one staged, so one that committed late is
        -- not missed. Of those, the files with a staged row are skipped: the loader writes a
        -- file in one transaction and a run stages what it reads in one statement, so such a
        -- file was read whole (its other rows were duplicates). The rest are checked by
        -- event_id below, against everything staged.
        left join (
            select distinct
                staged._batch_id,
                staged._source_file
            from {{ this }} as staged
            where staged._loaded_at >= {{ shoplens.loaded_since(this) }}
        ) as staged_files
            on
                raw_events._batch_id = staged_files._batch_id
                and raw_events._source_file = staged_files._source_file
        where
            raw_events._loaded_at >= {{ shoplens.loaded_since(this) }}
            and staged_files._batch_id is null
    {% endif %}

),

vendor_events as (

    select * from {{ ref('tracking_plan__vendor_events') }}

),

plan_events as (

    select * from {{ ref('tracking_plan__events') }}

),

plan_properties as (

    select
        *,
        -- Where json_pick put each property (and the property a requirement depends on).
        {{ shoplens.json_pick_key(keys, 'property_name') }} as property_key,
        {{ shoplens.json_pick_key(keys, 'required_when_property') }} as required_when_key
    from {{ ref('tracking_plan__event_properties') }}

),

redelivered_ids as (

    -- An SDK retry resends the same event_id. Few ids are sent twice, so only their deliveries
    -- are ranked (a window over every event costs more than the rest of staging).
    select event_id
    from source
    group by event_id
    having count(*) > 1

),

ranked_redeliveries as (

    select
        source.*,
        row_number() over (
            partition by source.event_id
            order by
                source.received_at_ms,
                source._loaded_at,
                source._source_file,
                source._line_number
        ) as delivery_rank
    from source
    inner join redelivered_ids
        on source.event_id = redelivered_ids.event_id

),

single_deliveries as (

    select
        source.*,
        1 as delivery_rank
    from source
    left join redelivered_ids
        on source.event_id = redelivered_ids.event_id
    where redelivered_ids.event_id is null

),

deliveries as (

    select * from single_deliveries
    union all
    select * from ranked_redeliveries

),

{% if is_incremental() %}

    already_staged as (

        -- This run's event_ids that are staged already (re-sent after an earlier file). A
        -- semi-join on this run's ids: the hash table is built on them (the new files' only),
        -- not on every staged id; it compares the 128-bit event_key, not the id strings (the
        -- join below on event_id confirms a match).
        select staged.event_id
        from {{ this }} as staged
        where staged.event_key in (select {{ shoplens.event_key('source.event_id') }} from source)

    ),

{% endif %}

first_deliveries as (

    -- Keep the earliest delivery of each event_id, across batches too.
    select deliveries.*
    from deliveries
    {% if is_incremental() %}
        left join already_staged
            on deliveries.event_id = already_staged.event_id
    {% endif %}
    where
        deliveries.delivery_rank = 1
    {% if is_incremental() %}
            and already_staged.event_id is null
        {% endif %}

),

named as (

    -- Vendor SDK names ($MPViewScreen, PAGE, ...) mapped onto canonical event names.
    select
        first_deliveries.*,
        vendor_events.vendor as source_vendor,
        coalesce(
            case
                when vendor_events.name_from_property is not null
                    then {{ shoplens.json_get_text('first_deliveries.properties', 'vendor_events.name_from_property') }}
            end,
            vendor_events.canonical_event,
            first_deliveries.event_name
        ) as canonical_event_name
    from first_deliveries
    left join vendor_events
        on first_deliveries.event_name = vendor_events.vendor_event

),

flagged as (

    -- Event-time rule: the client clock unless it is missing or implausible (more than
    -- client_time_max_ahead_ms after received_at, or client_time_max_behind_ms before it).
    select
        *,
        {{ shoplens.epoch_ms_to_timestamp('received_at_ms') }} as received_at,
        (
            client_time_ms is null
            or client_time_ms > received_at_ms + {{ var('client_time_max_ahead_ms') }}
            or client_time_ms < received_at_ms - {{ var('client_time_max_behind_ms') }}
        ) as is_client_time_implausible
    from named

),

timed as (

    select
        *,
        case
            when is_client_time_implausible then received_at
            else {{ shoplens.epoch_ms_to_timestamp('client_time_ms') }}
        end as event_at
    from flagged

),

picked as (

    -- The properties of the tracking plan read from the JSON once (see json_pick).
    select
        *,
        {{ shoplens.json_pick('timed.properties', keys) }} as picked_properties
    from timed

),

property_checks as (

    select
        picked.event_id,
        plan_properties.property_name,
        plan_properties.data_type,
        plan_properties.allowed_values,
        {{ shoplens.json_picked_type_name(props, 'plan_properties.property_key') }} as actual_type,
        {{ shoplens.json_picked_text(props, 'plan_properties.property_key') }} as actual_text,
        (
            plan_properties.is_required
            or coalesce(
                {{ shoplens.json_picked_text(props, 'plan_properties.required_when_key') }}
                = plan_properties.required_when_value,
                false
            )
        ) as is_required_here
    from picked
    inner join plan_properties
        on picked.canonical_event_name = plan_properties.event_name

),

property_violations as (

    select
        event_id,
        case
            when coalesce(actual_type, 'null') = 'null'
                then case when is_required_here then 'missing:' || property_name end
            when not (actual_type = data_type or (data_type = 'number' and actual_type = 'integer'))
                then 'wrong_type:' || property_name
            when
                allowed_values is not null
                and position('|' || actual_text || '|' in '|' || allowed_values || '|') = 0
                then 'invalid_value:' || property_name
        end as violation
    from property_checks

),

violations_per_event as (

    select
        event_id,
        {{ dbt.listagg('violation', "', '", 'order by violation') }} as property_violations
    from property_violations
    where violation is not null
    group by event_id

),

final as (

    select
        picked.event_id,
        picked.canonical_event_name as event_name,
        picked.event_name as sent_event_name,
        picked.source_vendor,
        plan_events.event_group,
        {{ shoplens.hash_pii('picked.anonymous_id') }} as anonymous_id_hash,
        {{ shoplens.hash_pii('picked.user_id') }} as user_id_hash,
        picked.event_at,
        {{ shoplens.to_reporting_date('picked.event_at') }} as event_date,
        picked.received_at,
        -- The client time as sent, when it is a date at all (1970-2100): a clock sending
        -- nanoseconds would overflow the timestamp type.
        case
            when picked.client_time_ms between 0 and {{ var('client_time_max_ms') }}
                then {{ shoplens.epoch_ms_to_timestamp('picked.client_time_ms') }}
        end as client_time_at,
        picked.is_client_time_implausible,
        case
            when picked.is_client_time_implausible then 0
            else picked.received_at_ms - picked.client_time_ms
        end as arrival_delay_ms,
        picked.lib_name,
        picked.lib_version,
        picked.app_version,
        {% for spec in shoplens.event_property_columns() -%}
            {{ shoplens.event_property_column('picked.picked_properties', spec) }},
        {% endfor -%}
        plan_events.event_name is not null as is_known_event,
        case
            when plan_events.event_name is null then 'unknown_event'
            else violations_per_event.property_violations
        end as plan_violations,
        (
            plan_events.event_name is not null
            and violations_per_event.event_id is null
        ) as is_conforming,
        picked._batch_id,
        picked._source_file,
        picked._line_number,
        {{ shoplens.event_key('picked.event_id') }} as event_key,
        picked._loaded_at
    from picked
    left join plan_events
        on picked.canonical_event_name = plan_events.event_name
    left join violations_per_event
        on picked.event_id = violations_per_event.event_id

)

select * from final
