{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
        post_hook="{{ shoplens.delete_sessionized_rows_withdrawn() }}",
    )
}}

-- depends_on: {{ ref('int_device_member_links') }}
-- depends_on: {{ ref('stg_order_system__consents') }}

{#
    Incremental on arrival. A late event can only change its own device's sessions from the
    last session that started at or before it (the "floor"): earlier sessions are closed. So a
    run re-sessionizes, for each device with newly staged events, the floor session and every
    later one, together with the new events; other sessions are not touched. A device whose
    person changed (a late first login) is re-sessionized entirely. Rows are replaced by
    event_id; fct_sessions removes sessions that a late event merged away.
    Consent (int_events_consented, incremental): an event counts as new when int_events_consented
    (re)wrote it since this model's last run (its _consented_at) and it is not here yet, whenever it
    was loaded (a late grant makes old events new); among the rows that the consent changes since
    this model's look-back bound reach (shoplens.consent_changed_devices: a changed device's events
    from its affected_from), a device with rows here that are no longer valid (a late withdrawal) is
    re-sessionized from the last session that started before its earliest such row (removing later
    events cannot change an earlier session), and the post-hook deletes those rows. Only the rows
    the changes reach are compared, never the whole history. The rows re-sessionized are the arrived
    ones (with their columns, read once from int_events_consented) and the touched rows here (their
    columns read from here).
#}

{#- The columns sessionization reads of an event (then _loaded_at, written last). #}
{%- set event_columns = [
    'event_id', 'event_name', 'anonymous_id_hash', 'user_id_hash', 'event_at', 'event_date',
    'received_at', 'scene', 'page_path', 'page_type', 'product_id', 'duration_ms',
] %}

with

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

int_anonymous_ids_identified as (

    select * from {{ ref('int_anonymous_ids_identified') }}

),

valid_events as (

    -- Valid events (spec/metrics.md): deduplicated (staging), consented and conforming to the
    -- tracking plan.
    select
        {% for column in event_columns -%}
            {{ column }},
        {% endfor -%}
        _loaded_at
    from int_events_consented
    where is_conforming

),

{% if is_incremental() %}

sessionized_through as (

    select coalesce(max(_sessionized_at), cast('1970-01-01' as timestamp)) as sessionized_at
    from {{ this }}

),

consent_changed_devices as (

    {{ shoplens.consent_changed_devices(shoplens.loaded_since(this)) }}

),

consent_changed_rows as (

    -- The rows here that the consent changes reach (a changed device's events from its
    -- affected_from; earlier ones cannot have changed).
    select
        sessionized.event_id,
        sessionized.anonymous_id_hash,
        sessionized.event_at
    from {{ this }} as sessionized
    inner join consent_changed_devices
        on {{ shoplens.reached_by_consent_changes('sessionized', 'consent_changed_devices') }}

),

{#-
    The incremental CTEs read int_events_consented through ref(), not through valid_events:
    DuckDB materializes a CTE that is read more than once, which here would copy every
    consented event on every run.
#}
consent_changed_valid_events as (

    select consented.event_id
    from {{ ref('int_events_consented') }} as consented
    inner join consent_changed_devices
        on {{ shoplens.reached_by_consent_changes('consented', 'consent_changed_devices') }}
    where consented.is_conforming

),

arrived as (

    -- Valid consented events written since the last run and not here yet: staged since, or
    -- granted late (rows int_events_consented rewrote for a changed device may be here).
    select
        {% for column in event_columns -%}
            consented.{{ column }},
        {% endfor -%}
        consented._loaded_at
    from {{ ref('int_events_consented') }} as consented
    where
        consented.is_conforming
        and consented._consented_at > (select sessionized_at from sessionized_through)
        and not exists (
            select 1 from consent_changed_rows
            where consent_changed_rows.event_id = consented.event_id
        )

),

removed_rows as (

    -- Rows here of the devices whose consent changed that are no longer consented (a
    -- withdrawal that came late); the post-hook deletes them.
    select
        consent_changed_rows.event_id,
        consent_changed_rows.anonymous_id_hash,
        consent_changed_rows.event_at
    from consent_changed_rows
    where not exists (
        select 1 from consent_changed_valid_events
        where consent_changed_valid_events.event_id = consent_changed_rows.event_id
    )

),

changes as (

    select
        anonymous_id_hash,
        event_at as arrived_at,
        cast(null as timestamp) as removed_at
    from arrived
    union all
    select
        anonymous_id_hash,
        cast(null as timestamp) as arrived_at,
        event_at as removed_at
    from removed_rows

),

touched_devices as (

    select
        anonymous_id_hash,
        min(arrived_at) as earliest_arrival_at,
        min(removed_at) as earliest_removal_at
    from changes
    group by anonymous_id_hash

),

touched_rows as (

    select
        {% for column in event_columns -%}
            sessionized.{{ column }},
        {% endfor -%}
        sessionized._loaded_at,
        sessionized.person_id,
        sessionized.session_started_at,
        touched_devices.earliest_arrival_at,
        touched_devices.earliest_removal_at
    from {{ this }} as sessionized
    inner join touched_devices
        on sessionized.anonymous_id_hash = touched_devices.anonymous_id_hash

),

person_changed as (

    select distinct touched_rows.anonymous_id_hash
    from touched_rows
    inner join int_anonymous_ids_identified
        on touched_rows.anonymous_id_hash = int_anonymous_ids_identified.anonymous_id_hash
    where touched_rows.person_id <> int_anonymous_ids_identified.person_id

),

floors as (

    -- Start of the last session that began at or before the device's earliest new event and
    -- before its earliest removed event (that session's first event stays, and stays a session
    -- start: nothing before it changed); null: re-sessionize the whole device (its person
    -- changed, or no session qualifies).
    select
        touched_devices.anonymous_id_hash,
        case
            when person_changed.anonymous_id_hash is null
                then max(
                    case
                        when
                            (
                                touched_devices.earliest_arrival_at is null
                                or touched_rows.session_started_at <= touched_devices.earliest_arrival_at
                            )
                            and (
                                touched_devices.earliest_removal_at is null
                                or touched_rows.session_started_at < touched_devices.earliest_removal_at
                            )
                            then touched_rows.session_started_at
                    end
                )
        end as floor_at
    from touched_devices
    left join touched_rows
        on touched_devices.anonymous_id_hash = touched_rows.anonymous_id_hash
    left join person_changed
        on touched_devices.anonymous_id_hash = person_changed.anonymous_id_hash
    group by
        touched_devices.anonymous_id_hash,
        person_changed.anonymous_id_hash

),

resessionized_rows as (

    -- The rows here from the floor session on, still valid and not arrived again: their
    -- columns are read from here, so the consented events are not read a second time.
    select
        {% for column in event_columns -%}
            touched_rows.{{ column }},
        {% endfor -%}
        touched_rows._loaded_at
    from touched_rows
    inner join floors
        on touched_rows.anonymous_id_hash = floors.anonymous_id_hash
    where
        (floors.floor_at is null or touched_rows.session_started_at >= floors.floor_at)
        and not exists (
            select 1 from removed_rows
            where removed_rows.event_id = touched_rows.event_id
        )
        and not exists (
            select 1 from arrived
            where arrived.event_id = touched_rows.event_id
        )

),

{% endif %}

events_to_sessionize as (

    select
        sessionizable.*,
        -- A launch sorts before any other event with the same timestamp: it opens the session.
        case when sessionizable.event_name = 'mp_launch' then 0 else 1 end as launch_order
    from (
        {% if is_incremental() %}
            select * from arrived
            union all
            select * from resessionized_rows
        {% else %}
            select * from valid_events
        {% endif %}
    ) as sessionizable

),

with_previous as (

    select
        *,
        lag(event_at) over (
            partition by anonymous_id_hash
            order by event_at, launch_order, received_at, event_id
        ) as previous_event_at,
        -- The same window: the event's place among the device's events being sessionized.
        row_number() over (
            partition by anonymous_id_hash
            order by event_at, launch_order, received_at, event_id
        ) as device_event_number
    from events_to_sessionize

),

with_starts as (

    -- A session starts on the first event (of the device, or of the re-sessionized stretch,
    -- which always begins at a session start), on mp_launch, or after a gap of more than
    -- session_timeout_minutes (exactly 30 minutes stays in the session).
    select
        *,
        case
            when
                previous_event_at is null
                or event_name = 'mp_launch'
                or event_at > {{ dbt.dateadd('minute', var('session_timeout_minutes'), 'previous_event_at') }}
                then 1
            else 0
        end as is_session_start
    from with_previous

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by anonymous_id_hash
            order by event_at, launch_order, received_at, event_id
            rows between unbounded preceding and current row
        ) as session_number,
        -- The device_event_number of the session's first event (the latest start so far), so
        -- the place in the session needs no window of its own.
        max(case when is_session_start = 1 then device_event_number end) over (
            partition by anonymous_id_hash
            order by event_at, launch_order, received_at, event_id
            rows between unbounded preceding and current row
        ) as session_first_event_number
    from with_starts

),

session_first_events as (

    select
        anonymous_id_hash,
        session_number,
        event_id as first_event_id,
        event_at as session_started_at
    from numbered
    where is_session_start = 1

),

final as (

    select
        numbered.event_id,
        -- Stable while the session's first event stays its first event.
        {{ dbt.hash(dbt.concat(["numbered.anonymous_id_hash", "'/'", "session_first_events.first_event_id"])) }}
            as session_id,
        session_first_events.session_started_at,
        numbered.device_event_number - numbered.session_first_event_number + 1 as event_sequence,
        numbered.is_session_start = 1 as is_session_start,
        numbered.event_name,
        numbered.anonymous_id_hash,
        int_anonymous_ids_identified.person_id,
        numbered.user_id_hash,
        numbered.event_at,
        numbered.event_date,
        numbered.received_at,
        numbered.scene,
        numbered.page_path,
        numbered.page_type,
        numbered.product_id,
        numbered.duration_ms,
        numbered._loaded_at,
        -- When this row was (re)computed: downstream models rebuild the sessions it names.
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as _sessionized_at
    from numbered
    inner join session_first_events
        on
            numbered.anonymous_id_hash = session_first_events.anonymous_id_hash
            and numbered.session_number = session_first_events.session_number
    inner join int_anonymous_ids_identified
        on numbered.anonymous_id_hash = int_anonymous_ids_identified.anonymous_id_hash

)

select * from final
