-- Nothing is silently dropped (spec/events.md §3): per load batch, the lines the loader read
-- equal the events staged + the other deliveries of staged events (SDK retries) + the rows
-- rejected + the rows erased or purged since. Each term is counted independently: read from
-- the loader's manifest, staged from the incremental staging model, duplicates from the raw
-- deliveries (a delivery of an event staged from another delivery, or of an event never staged
-- after its first delivery), rejected from the quarantine table, erased or purged from the
-- audit of `shoplens forget` / `shoplens purge` (rows deleted from raw whose staged row is gone
-- too; retention keeps the staged row). Returns the batches that do not balance.

with

manifest as (

    select
        batch_id,
        sum(rows_read) as rows_read
    from {{ source('loader', 'load_files') }}
    where table_name = 'events'
    group by batch_id

),

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

staged as (

    select
        _batch_id as batch_id,
        count(*) as events_staged
    from stg_mini_program__events
    group by _batch_id

),

deliveries as (

    select
        raw_events._batch_id as batch_id,
        stg_mini_program__events.event_id is not null as is_event_staged,
        coalesce(
            stg_mini_program__events._batch_id = raw_events._batch_id
            and stg_mini_program__events._source_file = raw_events._source_file
            and stg_mini_program__events._line_number = raw_events._line_number,
            false
        ) as is_staged_delivery,
        row_number() over (
            partition by raw_events.event_id
            order by
                raw_events.received_at_ms,
                raw_events._loaded_at,
                raw_events._source_file,
                raw_events._line_number
        ) as delivery_number
    from {{ source('mini_program', 'events') }} as raw_events
    left join stg_mini_program__events
        on raw_events.event_id = stg_mini_program__events.event_id

),

duplicates as (

    select
        batch_id,
        count(*) as duplicate_deliveries
    from deliveries
    where
        (is_event_staged and not is_staged_delivery)
        or (not is_event_staged and delivery_number > 1)
    group by batch_id

),

rejected as (

    select
        _batch_id as batch_id,
        count(*) as rows_rejected
    from {{ source('loader', 'rejected_rows') }}
    where table_name = 'events'
    group by _batch_id

),

deleted as (

    select
        batch_id,
        sum(rows_deleted - rows_kept_in_staging) as rows_deleted
    from {{ source('loader', 'deletion_counts') }}
    where raw_table = 'events'
    group by batch_id

)

select
    manifest.batch_id,
    manifest.rows_read,
    coalesce(staged.events_staged, 0) as events_staged,
    coalesce(duplicates.duplicate_deliveries, 0) as duplicate_deliveries,
    coalesce(rejected.rows_rejected, 0) as rows_rejected,
    coalesce(deleted.rows_deleted, 0) as rows_deleted
from manifest
left join staged on manifest.batch_id = staged.batch_id
left join duplicates on manifest.batch_id = duplicates.batch_id
left join rejected on manifest.batch_id = rejected.batch_id
left join deleted on manifest.batch_id = deleted.batch_id
where
    manifest.rows_read
    <> coalesce(staged.events_staged, 0)
    + coalesce(duplicates.duplicate_deliveries, 0)
    + coalesce(rejected.rows_rejected, 0)
    + coalesce(deleted.rows_deleted, 0)
