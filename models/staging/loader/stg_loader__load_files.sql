with

source as (

    select * from {{ source('loader', 'load_files') }}

),

renamed as (

    select
        batch_id,
        table_name,
        source_file,
        file_sha256,
        file_format,
        file_bytes,
        rows_read,
        rows_loaded,
        rows_rejected,
        loaded_at
    from source

)

select * from renamed
