{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='anonymous_id_hash',
        on_schema_change='fail',
    )
}}

{#
    Incremental on arrival: both the first event and the first login of a device are minimums
    (by event time, then received time, then event id), so a run takes the events staged since
    the last one (with the staging look-back; an event read twice changes no minimum) and, for
    the devices they belong to, the minimum of the device's current row and its new events.
    Nothing else is read: the cost follows the batch, not the history.
#}

with

stg_mini_program__events as (

    select
        anonymous_id_hash,
        user_id_hash,
        event_at,
        received_at,
        event_id,
        _loaded_at
    from {{ ref('stg_mini_program__events') }}
    {% if is_incremental() %}
        where _loaded_at >= (
            select
                coalesce(
                    {{ dbt.dateadd('minute', -var('staging_lookback_minutes'), 'max(_loaded_at)') }},
                    cast('1970-01-01' as timestamp)
                )
            from {{ this }}
        )
    {% endif %}

),

{% if is_incremental() %}

    current_devices as (

        -- The touched devices' rows as they stand: their first event and first login so far.
        select * from {{ this }}
        where anonymous_id_hash in (select anonymous_id_hash from stg_mini_program__events)

    ),

{% endif %}

candidate_events as (

    select * from stg_mini_program__events
    {% if is_incremental() %}
        union all
        select
            anonymous_id_hash,
            cast(null as {{ dbt.type_string() }}) as user_id_hash,
            first_seen_at as event_at,
            cast(null as timestamp) as received_at,
            cast(null as {{ dbt.type_string() }}) as event_id,
            _loaded_at
        from current_devices
        union all
        select
            anonymous_id_hash,
            first_user_id_hash as user_id_hash,
            first_login_at as event_at,
            first_login_received_at as received_at,
            first_login_event_id as event_id,
            _loaded_at
        from current_devices
        where first_user_id_hash is not null
    {% endif %}

),

devices as (

    select
        anonymous_id_hash,
        min(event_at) as first_seen_at,
        max(_loaded_at) as _loaded_at
    from candidate_events
    group by anonymous_id_hash

),

logged_in_events as (

    select
        anonymous_id_hash,
        user_id_hash,
        event_at,
        received_at,
        event_id,
        row_number() over (
            partition by anonymous_id_hash
            order by event_at, received_at, event_id
        ) as login_rank
    from candidate_events
    where user_id_hash is not null

),

first_logins as (

    select
        anonymous_id_hash,
        user_id_hash as first_user_id_hash,
        event_at as first_login_at,
        received_at as first_login_received_at,
        event_id as first_login_event_id
    from logged_in_events
    where login_rank = 1

),

final as (

    select
        devices.anonymous_id_hash,
        first_logins.first_user_id_hash,
        first_logins.first_login_at,
        devices.first_seen_at,
        first_logins.first_login_received_at,
        first_logins.first_login_event_id,
        devices._loaded_at,
        -- The person of a device is the first member account ever seen on it; a device never
        -- logged in is its own person.
        coalesce(first_logins.first_user_id_hash, devices.anonymous_id_hash) as person_id,
        first_logins.first_user_id_hash is not null as is_identified
    from devices
    left join first_logins
        on devices.anonymous_id_hash = first_logins.anonymous_id_hash

)

select * from final
