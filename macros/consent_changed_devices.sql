{#
    The devices whose consented events can have changed because of data loaded at or after
    `loaded_since` (a SQL expression on the loader's clock, `_loaded_at`), for the incremental
    models downstream of the consent rule (int_events_consented, int_events_sessionized,
    int_anonymous_ids_identified), each with the earliest event time the change can reach
    (`affected_from`). A device's consent depends on the analytics consent changes of the device
    and of every member who has logged in on it (README, "Consent"), so it changes when
    - an analytics change naming the device is loaded: from its changed_at,
    - an analytics change naming a member is loaded: every device the member has logged in on,
      from its changed_at,
    - a device logs in as a member with analytics changes for the first time (the pair's first
      staged event was loaded since): the member's changes now reach the device, from the
      member's first change.
    A change at T cannot alter an event before T: the change in force at the event's time, and
    whether the next change comes after it, stay the same. So only events at or after
    affected_from need re-evaluating. One row per device (the earliest time over its changes).
    Reads the staged consents and the device-member pairs (int_device_member_links), both small;
    never the staged events.
#}
{% macro consent_changed_devices(loaded_since) -%}
    select
        changes.anonymous_id_hash,
        min(changes.affected_from) as affected_from
    from (
        select
            consents.anonymous_id_hash,
            consents.changed_at as affected_from
        from {{ ref('stg_order_system__consents') }} as consents
        where consents.consent_type = 'analytics' and consents._loaded_at >= {{ loaded_since }}
        union all
        -- The devices of the members with analytics changes (int_device_member_links, one row
        -- per device and member): a member's device is reached when the member's change is new
        -- (from that change) or the link is (from the member's first change).
        select
            member_links.anonymous_id_hash,
            case
                when member_links.first_loaded_at >= {{ loaded_since }}
                    then members_with_changes.first_changed_at
                else members_with_changes.first_new_change_at
            end as affected_from
        from {{ ref('int_device_member_links') }} as member_links
        inner join (
            select
                user_id_hash,
                min(changed_at) as first_changed_at,
                min(
                    case when _loaded_at >= {{ loaded_since }} then changed_at end
                ) as first_new_change_at
            from {{ ref('stg_order_system__consents') }}
            where consent_type = 'analytics' and user_id_hash is not null
            group by user_id_hash
        ) as members_with_changes
            on member_links.user_id_hash = members_with_changes.user_id_hash
        where
            member_links.first_loaded_at >= {{ loaded_since }}
            or members_with_changes.first_new_change_at is not null
    ) as changes
    group by changes.anonymous_id_hash
{%- endmacro %}

{#
    Join condition: the event `alias` (with anonymous_id_hash and event_at) is one that the
    consent changes `changed` (a CTE of shoplens.consent_changed_devices, one row per device)
    reach: its device's, from the device's affected_from. A join, not a correlated `exists`:
    DuckDB then pushes the range of affected_from into the scan as a filter on event_at and
    skips the blocks of older events (the tables are stored in arrival order), so the cost
    follows the period the changes reach, not the history; written as a correlated subquery on
    the two columns, the consent rule's batch run took 44 s and 19 GB at 30M.
#}
{% macro reached_by_consent_changes(alias, changed) -%}
    {{ alias }}.anonymous_id_hash = {{ changed }}.anonymous_id_hash
    and {{ alias }}.event_at >= {{ changed }}.affected_from
{%- endmacro %}

{#
    The look-back bound of an incremental event model on the loader's clock: `lookback_minutes`
    before the newest `_loaded_at` of `relation` (a relation or a parenthesised query with a
    `_loaded_at` column); the epoch when it is empty, so everything is read.
#}
{% macro loaded_since(relation, where=none) -%}
    (
        select
            coalesce(
                {{ dbt.dateadd('minute', -var('staging_lookback_minutes'), 'max(built._loaded_at)') }},
                cast('1970-01-01' as timestamp)
            )
        from {{ relation }} as built
        {%- if where %}
        where {{ where }}
        {%- endif %}
    )
{%- endmacro %}

{#
    The start of the current dbt invocation as a timestamp: the bookkeeping columns
    (_consented_at, _sessionized_at, ...) of the rows a run (re)computes.
#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#
    Pre-hook of int_events_consented: deletes the rows that the consent changes since the
    model's look-back bound reach (each changed device's events from its affected_from); the
    model then inserts those devices' currently consented events from then on (a late
    withdrawal removes rows, a late grant adds old events).
#}
{% macro delete_consent_changed_devices() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        using (
            {{ shoplens.consent_changed_devices(shoplens.loaded_since(this)) }}
        ) as changed
        where {{ shoplens.reached_by_consent_changes(this.identifier, 'changed') }}
    {%- endif -%}
{%- endmacro %}

{#
    Post-hook of int_events_sessionized: deletes the rows, among those the consent changes
    reach, that are not valid consented events any more (a late withdrawal). The bound is taken
    from the rows the run did not rewrite, so it is never later than the model's own bound.
#}
{% macro delete_sessionized_rows_withdrawn() -%}
    {%- if is_incremental() -%}
        {%- set changed -%}
            {{ shoplens.consent_changed_devices(shoplens.loaded_since(
                this, 'built._sessionized_at < ' ~ shoplens.run_started_timestamp()
            )) }}
        {%- endset -%}
        delete from {{ this }}
        where event_id in (
            -- Both sides narrowed to the rows the changes reach first: an anti-join against
            -- every consented event would hash the whole history.
            with changed as ({{ changed }})
            select sessionized.event_id
            from {{ this }} as sessionized
            inner join changed
                on {{ shoplens.reached_by_consent_changes('sessionized', 'changed') }}
            left join (
                select upstream.event_id
                from {{ ref('int_events_consented') }} as upstream
                inner join changed
                    on {{ shoplens.reached_by_consent_changes('upstream', 'changed') }}
                where upstream.is_conforming
            ) as still_valid
                on sessionized.event_id = still_valid.event_id
            where still_valid.event_id is null
        )
    {%- endif -%}
{%- endmacro %}

{#
    Post-hook of int_anonymous_ids_identified: deletes the devices left without any consented
    event (a late withdrawal that covers all their events). Only devices whose consent changed
    can lose all their events; the bound is taken from the consented rows written up to this
    model's previous run, so it is never later than the bounds int_events_consented used since.
#}
{% macro delete_devices_without_consented_events() -%}
    {%- if is_incremental() -%}
        {%- set previous_run -%}
            (
                select coalesce(max(previous._identified_at), cast('1970-01-01' as timestamp))
                from {{ this }} as previous
                where previous._identified_at < {{ shoplens.run_started_timestamp() }}
            )
        {%- endset -%}
        {%- set changed -%}
            {{ shoplens.consent_changed_devices(shoplens.loaded_since(
                ref('int_events_consented'), 'built._consented_at <= ' ~ previous_run
            )) }}
        {%- endset -%}
        delete from {{ this }}
        where anonymous_id_hash in (
            -- The changed devices without any consented event, found among the changed devices
            -- only (not an anti-join against every consented event); the changed-device query
            -- is written once, as a CTE.
            with changed as ({{ changed }})
            select changed.anonymous_id_hash
            from changed
            left join (
                select distinct upstream.anonymous_id_hash
                from {{ ref('int_events_consented') }} as upstream
                inner join changed
                    on upstream.anonymous_id_hash = changed.anonymous_id_hash
            ) as still_consented
                on changed.anonymous_id_hash = still_consented.anonymous_id_hash
            where still_consented.anonymous_id_hash is null
        )
    {%- endif -%}
{%- endmacro %}
