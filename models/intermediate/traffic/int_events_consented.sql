{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ shoplens.delete_consent_changed_devices() }}",
    )
}}

{#-
    Append, not delete+insert on event_id: a run inserts only events that are not here (the
    pre-hook deleted the rows it re-evaluates; see events_to_evaluate), and dbt's delete by
    event_id would compare every row here (0.47 s of the 30M micro-batch).
#}

{#
    The consent rule (PIPL: authorisation before collection), in one place upstream of every
    person-level model.
    Incremental: a run applies the rule to the events staged since its look-back bound (the newest
    _loaded_at here minus staging_lookback_minutes, as in staging; events already here are skipped
    by event_id) and re-evaluates the events of the devices whose consent changed since then, from
    the earliest event time the changes reach (shoplens.consent_changed_devices: a change of the
    device or of a member who logged in on it, or a first login as such a member; a change at T
    cannot alter an earlier event): the pre-hook deletes those rows, the run inserts those devices'
    currently consented events from then on. So a consent change that arrives after the events it
    affects applies to them (a late grant makes old events appear, a late withdrawal removes them),
    and a run's work grows with what arrived, not with the history.
    _consented_at records the run that (re)wrote a row: int_events_sessionized takes the rows
    newer than its own last run.
#}

with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

{% if is_incremental() %}

    changed_devices as (

        -- Devices whose consent changed, each from the earliest event time the changes reach:
        -- the pre-hook deleted their rows from then on.
        {{ shoplens.consent_changed_devices(shoplens.loaded_since(this)) }}

    ),

    {#-
        The incremental CTEs read the staged events through ref() each, not through the import
        CTE: DuckDB materializes a CTE that is read more than once, which here would copy every
        staged event on every run.
    #}
    new_events as (

        -- Staged since the look-back bound and not here yet (not consented so far, or new).
        select stg_mini_program__events.*
        from {{ ref('stg_mini_program__events') }} as stg_mini_program__events
        where
            stg_mini_program__events._loaded_at >= {{ shoplens.loaded_since(this) }}
            and not exists (
                select 1 from {{ this }} as consented
                where
                    consented._loaded_at >= {{ shoplens.loaded_since(this) }}
                    and consented.event_id = stg_mini_program__events.event_id
            )

    ),

    reached_events as (

        -- The changed devices' staged events from their affected_from.
        {{ shoplens.select_joined_rows(
            ref('stg_mini_program__events'),
            'stg_mini_program__events',
            'changed_devices',
            shoplens.reached_by_consent_changes('stg_mini_program__events', 'changed_devices'),
        ) }}

    ),

    reached_here as (

        -- The rows here that the changes reach: none after the pre-hook, unless deleting moved
        -- the look-back bound earlier (the newest rows were among those deleted), which reaches
        -- more rows; those stay as they are, so no event is inserted twice.
        select consented.event_id
        from {{ this }} as consented
        inner join changed_devices
            on {{ shoplens.reached_by_consent_changes('consented', 'changed_devices') }}

    ),

    events_to_evaluate as (

        -- The changed devices' events from their affected_from, and the new events not among
        -- them (a new event of a changed device from before its affected_from is new only);
        -- never an event that is here.
        select reached_events.*
        from reached_events
        left join reached_here
            on reached_events.event_id = reached_here.event_id
        where reached_here.event_id is null
        union all
        select new_events.*
        from new_events
        left join changed_devices
            on {{ shoplens.reached_by_consent_changes('new_events', 'changed_devices') }}
        where changed_devices.anonymous_id_hash is null

    ),

    evaluated_devices as (

        select distinct anonymous_id_hash
        from events_to_evaluate

    ),

{% else %}

    events_to_evaluate as (

        select * from stg_mini_program__events

    ),

{% endif %}

member_devices as (

    -- Every device a member has logged in on (any staged event): a member's change covers all.
    select
        int_device_member_links.anonymous_id_hash,
        int_device_member_links.user_id_hash
    from {{ ref('int_device_member_links') }} as int_device_member_links
    {%- if is_incremental() %}
        inner join evaluated_devices
            on int_device_member_links.anonymous_id_hash = evaluated_devices.anonymous_id_hash
    {%- endif %}

),

device_changes as (

    -- A change applies to its own device and, when a member made it, to the member's devices;
    -- `union` counts a change that reaches a device both ways once. The staged consents are read
    -- through ref() in each branch, not through a shared CTE: DuckDB would materialize every
    -- analytics change of the history (a CTE read twice), not only the evaluated devices' ones.
    select
        device_consents.consent_change_id,
        device_consents.anonymous_id_hash,
        device_consents.is_granted,
        device_consents.changed_at
    from {{ ref('stg_order_system__consents') }} as device_consents
    {%- if is_incremental() %}
        inner join evaluated_devices
            on device_consents.anonymous_id_hash = evaluated_devices.anonymous_id_hash
    {%- endif %}
    where device_consents.consent_type = 'analytics'
    union
    select
        member_consents.consent_change_id,
        member_devices.anonymous_id_hash,
        member_consents.is_granted,
        member_consents.changed_at
    from {{ ref('stg_order_system__consents') }} as member_consents
    inner join member_devices
        on member_consents.user_id_hash = member_devices.user_id_hash
    where member_consents.consent_type = 'analytics'

),

consent_periods as (

    -- Each change holds until the device's next one; at equal times a withdrawal wins (it
    -- sorts last, so the grant's period is empty).
    select
        anonymous_id_hash,
        is_granted,
        changed_at as period_started_at,
        lead(changed_at) over (
            partition by anonymous_id_hash
            order by changed_at asc, is_granted desc, consent_change_id asc
        ) as period_ended_at
    from device_changes

),

granted_periods as (

    select * from consent_periods
    where is_granted

),

final as (

    -- Events inside a granted period; before a device's first grant nothing is collected.
    -- Every column of the staged events, in their order, then the run's bookkeeping.
    select
        {% for column in [
            'event_id', 'event_name', 'sent_event_name', 'source_vendor', 'event_group',
            'anonymous_id_hash', 'user_id_hash', 'event_at', 'event_date', 'received_at',
            'client_time_at', 'is_client_time_implausible', 'arrival_delay_ms', 'lib_name',
            'lib_version', 'app_version',
        ] + shoplens.event_property_columns() | map(attribute='column') | list + [
            'is_known_event', 'plan_violations', 'is_conforming', '_batch_id', '_source_file',
            '_line_number',
        ] -%}
            events_to_evaluate.{{ column }},
        {% endfor -%}
        events_to_evaluate._loaded_at,
        {{ shoplens.run_started_timestamp() }} as _consented_at
    from events_to_evaluate
    inner join granted_periods
        on
            events_to_evaluate.anonymous_id_hash = granted_periods.anonymous_id_hash
            and events_to_evaluate.event_at >= granted_periods.period_started_at
            and (
                granted_periods.period_ended_at is null
                or events_to_evaluate.event_at < granted_periods.period_ended_at
            )

)

select * from final
