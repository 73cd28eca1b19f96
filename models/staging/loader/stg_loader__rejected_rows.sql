with

source as (

    select * from {{ source('loader', 'rejected_rows') }}

),

renamed as (

    -- raw_line stays in the raw schema: it may hold personal data.
    select
        _batch_id as batch_id,
        table_name,
        _source_file as source_file,
        _line_number as line_number,
        reason,
        _loaded_at as loaded_at
    from source

)

select * from renamed
