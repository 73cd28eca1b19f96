{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='anonymous_id_hash',
        on_schema_change='fail',
        post_hook="{{ shoplens.delete_devices_without_consented_events() }}",
    )
}}

-- depends_on: {{ ref('int_device_member_links') }}
-- depends_on: {{ ref('stg_order_system__consents') }}

{#
    Incremental by device: a run recomputes, from all their consented events, the devices with
    rows that int_events_consented (re)wrote since this model's last run (_consented_at): new
    events, and the devices whose consent int_events_consented re-evaluated (a late change can
    move a device's first consented event later, which a running minimum could not undo). A
    device left without any consented event is deleted by the post-hook.
#}

{#-
    The columns of a device's events that the identification reads. device_events is read twice,
    so DuckDB materializes it with every column it selects (all of int_events_consented's, with
    `*`).
#}
{%- set device_event_columns = ['anonymous_id_hash', 'user_id_hash', 'event_id', 'event_at', 'received_at'] %}

with

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

{% if is_incremental() %}

    identified_through as (

        select coalesce(max(_identified_at), cast('1970-01-01' as timestamp)) as identified_at
        from {{ this }}

    ),

    touched_devices as (

        -- Through ref(), not the import CTE: DuckDB would materialize a CTE read twice.
        select distinct consented.anonymous_id_hash
        from {{ ref('int_events_consented') }} as consented
        where consented._consented_at > (select identified_at from identified_through)

    ),

    device_events as (

        select
            {%- for column in device_event_columns %}
            int_events_consented.{{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from int_events_consented
        inner join touched_devices
            on int_events_consented.anonymous_id_hash = touched_devices.anonymous_id_hash

    ),

{% else %}

    device_events as (

        select {{ device_event_columns | join(', ') }}
        from int_events_consented

    ),

{% endif %}

devices as (

    select
        anonymous_id_hash,
        min(event_at) as first_seen_at
    from device_events
    group by anonymous_id_hash

),

logged_in_events as (

    select
        anonymous_id_hash,
        user_id_hash,
        event_at,
        row_number() over (
            partition by anonymous_id_hash
            order by event_at, received_at, event_id
        ) as login_rank
    from device_events
    where user_id_hash is not null

),

first_logins as (

    select
        anonymous_id_hash,
        user_id_hash as first_user_id_hash,
        event_at as first_login_at
    from logged_in_events
    where login_rank = 1

),

final as (

    select
        devices.anonymous_id_hash,
        first_logins.first_user_id_hash,
        first_logins.first_login_at,
        devices.first_seen_at,
        -- The person of a device is the first member account ever seen on it; a device never
        -- logged in is its own person.
        coalesce(first_logins.first_user_id_hash, devices.anonymous_id_hash) as person_id,
        first_logins.first_user_id_hash is not null as is_identified,
        {{ shoplens.run_started_timestamp() }} as _identified_at
    from devices
    left join first_logins
        on devices.anonymous_id_hash = first_logins.anonymous_id_hash

)

select * from final
