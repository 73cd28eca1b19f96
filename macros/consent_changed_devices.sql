{#
    The devices whose consented events can have changed because of data loaded at or after
    `loaded_since` (a SQL expression on the loader's clock, `_loaded_at`), for the incremental
    models downstream of the consent rule (int_events_consented, int_events_sessionized,
    int_anonymous_ids_identified). A device's consent depends on the analytics consent changes
    of the device and of every member who has logged in on it (README, "Consent"), so it changes
    when
    - an analytics change naming the device is loaded,
    - an analytics change naming a member is loaded: every device the member has logged in on,
    - a device logs in as a member with analytics changes for the first time (the pair's first
      staged event was loaded since): the member's changes now reach the device, and its older
      events too.
    One row per device (`union`). Reads the staged consents (small) and the staged events'
    device and member columns; nothing is re-evaluated here.
#}
{% macro consent_changed_devices(loaded_since) -%}
    select consents.anonymous_id_hash
    from {{ ref('stg_order_system__consents') }} as consents
    where consents.consent_type = 'analytics' and consents._loaded_at >= {{ loaded_since }}
    union
    -- The devices of the members with analytics changes, in one pass over the staged events:
    -- a member's device is reached when the member's change is new or the link is.
    select member_links.anonymous_id_hash
    from (
        select
            linked_events.anonymous_id_hash,
            linked_events.user_id_hash,
            min(linked_events._loaded_at) as first_loaded_at
        from {{ ref('stg_mini_program__events') }} as linked_events
        inner join (
            select distinct user_id_hash
            from {{ ref('stg_order_system__consents') }}
            where consent_type = 'analytics' and user_id_hash is not null
        ) as members_with_changes
            on linked_events.user_id_hash = members_with_changes.user_id_hash
        group by linked_events.anonymous_id_hash, linked_events.user_id_hash
    ) as member_links
    left join (
        select distinct user_id_hash
        from {{ ref('stg_order_system__consents') }}
        where
            consent_type = 'analytics'
            and user_id_hash is not null
            and _loaded_at >= {{ loaded_since }}
    ) as members_changed
        on member_links.user_id_hash = members_changed.user_id_hash
    where
        member_links.first_loaded_at >= {{ loaded_since }}
        or members_changed.user_id_hash is not null
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
    Pre-hook of int_events_consented: deletes every row of the devices whose consent changed
    since the model's look-back bound; the model then inserts their currently consented events
    (a late withdrawal removes rows, a late grant adds old events).
#}
{% macro delete_consent_changed_devices() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where anonymous_id_hash in (
            {{ shoplens.consent_changed_devices(shoplens.loaded_since(this)) }}
        )
    {%- endif -%}
{%- endmacro %}

{#
    Post-hook of int_events_sessionized: deletes the rows, of the devices whose consent changed,
    that are not valid consented events any more (a late withdrawal). The bound is taken from
    the rows the run did not rewrite, so it is never later than the model's own bound.
#}
{% macro delete_sessionized_rows_withdrawn() -%}
    {%- if is_incremental() -%}
        {%- set changed -%}
            {{ shoplens.consent_changed_devices(shoplens.loaded_since(
                this, 'built._sessionized_at < ' ~ shoplens.run_started_timestamp()
            )) }}
        {%- endset -%}
        delete from {{ this }}
        where
            anonymous_id_hash in ({{ changed }})
            and not exists (
                select 1 from {{ ref('int_events_consented') }} as upstream
                where upstream.is_conforming and upstream.event_id = {{ this.identifier }}.event_id
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
        where
            anonymous_id_hash in ({{ changed }})
            and not exists (
                select 1 from {{ ref('int_events_consented') }} as upstream
                where upstream.anonymous_id_hash = {{ this.identifier }}.anonymous_id_hash
            )
    {%- endif -%}
{%- endmacro %}
