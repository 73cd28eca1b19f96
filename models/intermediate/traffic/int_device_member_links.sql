{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key=['anonymous_id_hash', 'user_id_hash'],
        on_schema_change='fail',
    )
}}

{#
    Which member accounts have logged in on which device: one row per pair seen on a staged
    event (consented or not), with the first and the newest load it was seen in. The consent
    rule reads it to find a member's devices (shoplens.consent_changed_devices,
    int_events_consented), so a monitoring cycle reads this small table instead of every staged
    event. Incremental: a run reads the events staged since its look-back bound (the newest
    _loaded_at here minus staging_lookback_minutes) and merges their pairs: first_loaded_at
    keeps the earliest load, _loaded_at the newest. A late-committed batch inside the look-back
    can only leave first_loaded_at later than the earliest load of the pair, which makes the
    consent rule re-evaluate the device once more, never less.
#}

with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}
    {% if is_incremental() %}
        -- Only the events staged since the look-back bound.
        where _loaded_at >= {{ shoplens.loaded_since(this) }}
    {% endif %}

),

seen as (

    select
        anonymous_id_hash,
        user_id_hash,
        min(_loaded_at) as first_loaded_at,
        max(_loaded_at) as _loaded_at
    from stg_mini_program__events
    where user_id_hash is not null
    group by anonymous_id_hash, user_id_hash

),

final as (

    select
        seen.anonymous_id_hash,
        seen.user_id_hash,
        {% if is_incremental() %}
            -- least() skips a null: a new pair keeps its own first load.
            least(linked.first_loaded_at, seen.first_loaded_at) as first_loaded_at,
        {% else %}
            seen.first_loaded_at,
        {% endif %}
        seen._loaded_at
    from seen
    {% if is_incremental() %}
        left join {{ this }} as linked
            on
                seen.anonymous_id_hash = linked.anonymous_id_hash
                and seen.user_id_hash = linked.user_id_hash
    {% endif %}

)

select * from final
