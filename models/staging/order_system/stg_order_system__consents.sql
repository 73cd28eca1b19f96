{{
    config(
        materialized=shoplens.keyed_incremental(),
        incremental_strategy='delete+insert',
        unique_key='consent_change_id',
        on_schema_change='fail',
    )
}}

{#
    Incremental, as the staged events: a run reads the exports loaded since the look-back bound
    (the newest _loaded_at here minus staging_lookback_minutes) and replaces each change it
    reads by key, so a change exported again later keeps its newest export, as a full build
    does; the monitoring cycle hashes the new rows only.
#}

with

source as (

    select * from {{ source('order_system', 'consents') }}
    {% if is_incremental() %}
        where _loaded_at >= {{ shoplens.loaded_since(this) }}
    {% endif %}

),

latest as (

    -- A consent change exported twice is one change: its newest export.
    {{ shoplens.latest_row_per_key('source', ['anonymous_id', 'consent_type', 'changed_at']) }}

),

renamed as (

    select
        {{ shoplens.hash_pii(dbt.concat([
            "anonymous_id", "'|'", "consent_type", "'|'", "cast(changed_at as " ~ dbt.type_string() ~ ")"
        ])) }} as consent_change_id,
        {{ shoplens.hash_pii('anonymous_id') }} as anonymous_id_hash,
        {{ shoplens.hash_pii('user_id') }} as user_id_hash,
        consent_type,
        granted as is_granted,
        changed_at,
        _batch_id,
        _loaded_at
    from latest

)

select * from renamed
