with

source as (

    select * from {{ source('order_system', 'consents') }}

),

latest as (

    -- A consent change exported twice is one change.
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
