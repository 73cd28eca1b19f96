with

int_events_consented as (

    select * from {{ ref('int_events_consented') }}

),

devices as (

    select
        anonymous_id_hash,
        min(event_at) as first_seen_at
    from int_events_consented
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
    from int_events_consented
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
        first_logins.first_user_id_hash is not null as is_identified
    from devices
    left join first_logins
        on devices.anonymous_id_hash = first_logins.anonymous_id_hash

)

select * from final
