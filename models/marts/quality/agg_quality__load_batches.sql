with

load_files as (

    select * from {{ ref('stg_loader__load_files') }}

),

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

files_per_batch as (

    select
        batch_id,
        table_name,
        cast(sum(rows_read) as bigint) as rows_read,
        cast(sum(rows_loaded) as bigint) as rows_loaded,
        cast(sum(rows_rejected) as bigint) as rows_rejected,
        min(loaded_at) as loaded_at,
        count(*) as files
    from load_files
    group by batch_id, table_name

),

staged_events_per_batch as (

    select
        _batch_id as batch_id,
        'events' as table_name,
        count(*) as events_staged,
        -- Late (遲到): received after the end of the reporting day the event belongs to, so it
        -- changes a day that was already reported.
        cast(sum(case
            when {{ shoplens.to_reporting_date('received_at') }} > event_date then 1 else 0
        end) as bigint) as late_events
    from stg_mini_program__events
    group by _batch_id

),

accounted as (

    select
        files_per_batch.batch_id,
        files_per_batch.table_name,
        files_per_batch.loaded_at,
        {{ shoplens.to_reporting_date('files_per_batch.loaded_at') }} as loaded_date,
        files_per_batch.files,
        files_per_batch.rows_read,
        files_per_batch.rows_loaded,
        files_per_batch.rows_rejected,
        case
            when files_per_batch.table_name = 'events'
                then coalesce(staged_events_per_batch.events_staged, 0)
        end as events_staged,
        case
            when files_per_batch.table_name = 'events'
                then coalesce(staged_events_per_batch.late_events, 0)
        end as late_events
    from files_per_batch
    left join staged_events_per_batch
        on
            files_per_batch.batch_id = staged_events_per_batch.batch_id
            and files_per_batch.table_name = staged_events_per_batch.table_name

),

final as (

    select
        batch_id,
        table_name,
        loaded_at,
        loaded_date,
        files,
        rows_read,
        rows_loaded,
        rows_rejected,
        events_staged,
        -- Rows of an events batch that were not staged repeat an event staged before them.
        rows_loaded - events_staged as duplicate_deliveries,
        late_events,
        {{ shoplens.ratio('rows_rejected', 'rows_read') }} as rejected_rate,
        {{ shoplens.ratio('rows_loaded - events_staged', 'rows_loaded') }} as duplicate_rate,
        {{ shoplens.ratio('late_events', 'events_staged') }} as late_rate
    from accounted

)

select * from final
