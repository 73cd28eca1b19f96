-- The loader's manifest agrees with what reached the warehouse, for every raw table and file:
-- rows_loaded = rows in the raw table from that file, rows_rejected = rows quarantined from it,
-- and rows_read = rows_loaded + rows_rejected. Rows that `shoplens forget` or `shoplens purge`
-- deleted later count as found: they are in the audit (deletion_counts) per batch and file.
-- Returns the files that disagree.

with

manifest as (

    select * from {{ source('loader', 'load_files') }}

),

raw_rows as (

    {% for table in ['events', 'products', 'users', 'orders', 'order_items', 'payments', 'refunds', 'consents'] %}
        {% set source_table = 'mini_program' if table == 'events' else 'order_system' %}
        select
            '{{ table }}' as table_name,
            _batch_id as batch_id,
            _source_file as source_file,
            count(*) as rows_loaded
        from {{ source(source_table, table) }}
        group by _batch_id, _source_file
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

deleted as (

    select
        raw_table as table_name,
        batch_id,
        source_file,
        sum(case when table_name = 'rejected_rows' then 0 else rows_deleted end) as rows_loaded,
        sum(case when table_name = 'rejected_rows' then rows_deleted else 0 end) as rows_rejected
    from {{ source('loader', 'deletion_counts') }}
    where raw_table is not null
    group by raw_table, batch_id, source_file

),

rejected as (

    select
        table_name,
        _batch_id as batch_id,
        _source_file as source_file,
        count(*) as rows_rejected
    from {{ source('loader', 'rejected_rows') }}
    group by table_name, _batch_id, _source_file

),

found as (

    select
        manifest.table_name,
        manifest.source_file,
        manifest.rows_read,
        manifest.rows_loaded,
        manifest.rows_rejected,
        coalesce(raw_rows.rows_loaded, 0) + coalesce(deleted.rows_loaded, 0) as raw_rows_found,
        coalesce(rejected.rows_rejected, 0)
        + coalesce(deleted.rows_rejected, 0) as rejected_rows_found
    from manifest
    left join raw_rows
        on
            manifest.table_name = raw_rows.table_name
            and manifest.batch_id = raw_rows.batch_id
            and manifest.source_file = raw_rows.source_file
    left join rejected
        on
            manifest.table_name = rejected.table_name
            and manifest.batch_id = rejected.batch_id
            and manifest.source_file = rejected.source_file
    left join deleted
        on
            manifest.table_name = deleted.table_name
            and manifest.batch_id = deleted.batch_id
            and manifest.source_file = deleted.source_file

)

select * from found
where
    rows_loaded <> raw_rows_found
    or rows_rejected <> rejected_rows_found
    or rows_read <> rows_loaded + rows_rejected
