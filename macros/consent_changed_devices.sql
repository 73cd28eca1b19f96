{#
    The devices whose consented events can have changed because of data loaded at or after
    `loaded_since` (a SQL expression on the loader's clock, `_loaded_at`), for the incremental
    models downstream of the consent rule (int_events_consented, int_events_sessionized,
    int_anonymous_ids_identified), each with the earliest event time the change can reach
    (`affected_from`). One row per device; never reads the staged events, only the staged
    consents and the device-member pairs (int_device_member_links), both small.

    A device's consent depends on the analytics changes of the device and of every member who
    has logged in on it (README, "Consent"). A change is new for a device when it was loaded
    since `loaded_since`, or when it reaches the device through a pair first seen since then (a
    first login as that member); the other changes reaching the device are old. The device's
    rows were last evaluated with the old changes and some of the new ones (which of them is
    not known: the look-back re-reads what the previous run may already have applied). At an
    event time t the change in force is the latest change at or before t (at equal times a
    withdrawal wins); with only some of the new changes applied, it is the latest old one or
    any later new one up to t. So the event's consent can have changed only when those
    candidates disagree (no old change counts as "not granted"): the first change time from
    which they can disagree is the device's affected_from, and a device where they never
    disagree (a new grant of a device already granted, a first login as a member whose changes
    agree with the device's) is not reached at all. Before affected_from nothing can have
    changed, so only events from then on need re-evaluating.
#}
{% macro consent_changed_devices(loaded_since) -%}
    select
        flagged.anonymous_id_hash,
        min(flagged.changed_at) as affected_from
    from (
        -- Per change of a device, in the order the consent rule applies them: whether the
        -- candidates for the change in force up to it disagree (a run of new changes after the
        -- latest old change, with that old change; before any old change, with "not granted").
        select
            grouped.anonymous_id_hash,
            grouped.changed_at,
            grouped.last_old_number,
            max(grouped.granted) over in_force as any_granted,
            min(grouped.granted) over in_force as all_granted
        from (
            select
                ordered.anonymous_id_hash,
                ordered.changed_at,
                ordered.granted,
                ordered.change_number,
                coalesce(
                    max(case when ordered.is_new = 0 then ordered.change_number end) over (
                        partition by ordered.anonymous_id_hash
                        order by ordered.change_number
                        rows between unbounded preceding and current row
                    ),
                    0
                ) as last_old_number
            from (
                -- A change reaching a device both ways (its own, and through an old pair) is old.
                select
                    reaching.anonymous_id_hash,
                    reaching.changed_at,
                    reaching.granted,
                    min(reaching.is_new) as is_new,
                    row_number() over (
                        partition by reaching.anonymous_id_hash
                        order by reaching.changed_at asc, reaching.granted desc, reaching.consent_change_id asc
                    ) as change_number
                from (
                    {{ shoplens.consent_changes_reaching_candidates(loaded_since) }}
                ) as reaching
                group by
                    reaching.anonymous_id_hash,
                    reaching.consent_change_id,
                    reaching.granted,
                    reaching.changed_at
            ) as ordered
        ) as grouped
        window in_force as (
            partition by grouped.anonymous_id_hash, grouped.last_old_number
            order by grouped.change_number
            rows between unbounded preceding and current row
        )
    ) as flagged
    where
        (flagged.last_old_number = 0 and flagged.any_granted = 1)
        or (flagged.last_old_number > 0 and flagged.any_granted <> flagged.all_granted)
    group by flagged.anonymous_id_hash
{%- endmacro %}

{#
    For consent_changed_devices: every analytics change reaching a candidate device (one with a
    new change: its own change loaded since `loaded_since`, a change of a member who has logged
    in on it loaded since, or a first login since as a member with changes), with is_new (1/0)
    and granted (1/0); a change reaching the device both ways appears twice.
#}
{% macro consent_changes_reaching_candidates(loaded_since) -%}
    with

    bound as (

        select {{ loaded_since }} as loaded_since

    ),

    analytics as (

        select
            consents.consent_change_id,
            consents.anonymous_id_hash,
            consents.user_id_hash,
            consents.changed_at,
            case when consents.is_granted then 1 else 0 end as granted,
            case when consents._loaded_at >= (select bound.loaded_since from bound) then 1 else 0 end as is_new
        from {{ ref('stg_order_system__consents') }} as consents
        where consents.consent_type = 'analytics'

    ),

    links as (

        select
            member_links.anonymous_id_hash,
            member_links.user_id_hash,
            case
                when member_links.first_loaded_at >= (select bound.loaded_since from bound) then 1 else 0
            end as is_new
        from {{ ref('int_device_member_links') }} as member_links

    ),

    member_changes as (

        -- The changes of the members who have logged in on a device, as they reach it: new when
        -- the change or the pair is.
        select
            links.anonymous_id_hash,
            analytics.consent_change_id,
            analytics.changed_at,
            analytics.granted,
            case when links.is_new = 1 or analytics.is_new = 1 then 1 else 0 end as is_new
        from links
        inner join analytics
            on links.user_id_hash = analytics.user_id_hash

    ),

    candidates as (

        select analytics.anonymous_id_hash
        from analytics
        where analytics.is_new = 1
        union
        select member_changes.anonymous_id_hash
        from member_changes
        where member_changes.is_new = 1

    )

    select
        analytics.anonymous_id_hash,
        analytics.consent_change_id,
        analytics.changed_at,
        analytics.granted,
        analytics.is_new
    from analytics
    inner join candidates
        on analytics.anonymous_id_hash = candidates.anonymous_id_hash
    union all
    select
        member_changes.anonymous_id_hash,
        member_changes.consent_change_id,
        member_changes.changed_at,
        member_changes.granted,
        member_changes.is_new
    from member_changes
    inner join candidates
        on member_changes.anonymous_id_hash = candidates.anonymous_id_hash
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
