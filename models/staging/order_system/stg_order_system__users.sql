with

source as (

    select * from {{ source('order_system', 'users') }}

),

latest as (

    {{ shoplens.latest_row_per_key('source', ['user_id']) }}

),

renamed as (

    select
        {{ shoplens.hash_pii('user_id') }} as user_id_hash,
        registered_at,
        {{ shoplens.to_reporting_date('registered_at') }} as registered_date,
        {{ shoplens.hash_pii('phone') }} as phone_hash,
        gender,
        city,
        _batch_id,
        _loaded_at
    from latest

)

select * from renamed
