-- Which landing files lost rows to quarantine, and why: a starting point when a load's
-- `rejected` count jumps. Compile with `dbt compile --select rejected_rows_by_reason` and run
-- the SQL in target/compiled/ against the warehouse. (raw_line stays in the raw schema.)

with

rejected_rows as (

    select * from {{ ref('stg_loader__rejected_rows') }}

),

load_files as (

    select * from {{ ref('stg_loader__load_files') }}

),

rejections_per_file as (

    select
        batch_id,
        table_name,
        source_file,
        reason,
        count(*) as rows_rejected,
        min(line_number) as first_line_number
    from rejected_rows
    group by batch_id, table_name, source_file, reason

),

final as (

    select
        rejections_per_file.batch_id,
        rejections_per_file.table_name,
        rejections_per_file.source_file,
        rejections_per_file.reason,
        rejections_per_file.rows_rejected,
        rejections_per_file.first_line_number,
        load_files.rows_read,
        1.0 * rejections_per_file.rows_rejected / load_files.rows_read as rejected_share
    from rejections_per_file
    inner join load_files
        on
            rejections_per_file.batch_id = load_files.batch_id
            and rejections_per_file.source_file = load_files.source_file
            and rejections_per_file.table_name = load_files.table_name

)

select * from final
order by rows_rejected desc, source_file asc, reason asc
