{#
    The consent rule (PIPL: authorisation before collection), in one place upstream of every
    person-level model. Rebuilt in full on every run, so a consent change that arrives after
    the events it affects (a late grant, a withdrawal) applies to them at once; the incremental
    int_events_sessionized re-sessionizes the devices whose consented events changed.
#}

with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

stg_order_system__consents as (

    select * from {{ ref('stg_order_system__consents') }}

),

analytics_changes as (

    select
        consent_change_id,
        anonymous_id_hash,
        user_id_hash,
        is_granted,
        changed_at
    from stg_order_system__consents
    where consent_type = 'analytics'

),

member_devices as (

    -- Every device a member has logged in on (any staged event): a member's change covers all.
    select distinct
        anonymous_id_hash,
        user_id_hash
    from stg_mini_program__events
    where user_id_hash is not null

),

device_changes as (

    -- A change applies to its own device and, when a member made it, to the member's devices;
    -- `union` counts a change that reaches a device both ways once.
    select
        consent_change_id,
        anonymous_id_hash,
        is_granted,
        changed_at
    from analytics_changes
    union
    select
        analytics_changes.consent_change_id,
        member_devices.anonymous_id_hash,
        analytics_changes.is_granted,
        analytics_changes.changed_at
    from analytics_changes
    inner join member_devices
        on analytics_changes.user_id_hash = member_devices.user_id_hash

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
    -- Every column of the staged events, in their order.
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
            stg_mini_program__events.{{ column }},
        {% endfor -%}
        stg_mini_program__events._loaded_at
    from stg_mini_program__events
    inner join granted_periods
        on
            stg_mini_program__events.anonymous_id_hash = granted_periods.anonymous_id_hash
            and stg_mini_program__events.event_at >= granted_periods.period_started_at
            and (
                granted_periods.period_ended_at is null
                or stg_mini_program__events.event_at < granted_periods.period_ended_at
            )

)

select * from final
