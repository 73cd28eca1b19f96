-- Nothing is silently dropped (spec/events.md §3): per load batch, the lines the loader read
-- equal the events staged + the later deliveries of events already staged + the rows rejected.
-- Each term is counted independently: read from the loader's manifest, staged from the
-- incremental staging model, duplicates by ranking every delivery in raw at once, rejected from
-- the quarantine table. Returns the batches that do not balance.

with

manifest as (

    select
        batch_id,
        sum(rows_read) as rows_read
    from {{ source('loader', 'load_files') }}
    where table_name = 'events'
    group by batch_id

),

staged as (

    select
        _batch_id as batch_id,
        count(*) as events_staged
    from {{ ref('stg_mini_program__events') }}
    group by _batch_id

),

deliveries as (

    select
        _batch_id as batch_id,
        row_number() over (
            partition by event_id
            order by received_at_ms, _loaded_at, _source_file, _line_number
        ) as delivery_number
    from {{ source('mini_program', 'events') }}

),

duplicates as (

    select
        batch_id,
        count(*) as duplicate_deliveries
    from deliveries
    where delivery_number > 1
    group by batch_id

),

rejected as (

    select
        _batch_id as batch_id,
        count(*) as rows_rejected
    from {{ source('loader', 'rejected_rows') }}
    where table_name = 'events'
    group by _batch_id

)

select
    manifest.batch_id,
    manifest.rows_read,
    coalesce(staged.events_staged, 0) as events_staged,
    coalesce(duplicates.duplicate_deliveries, 0) as duplicate_deliveries,
    coalesce(rejected.rows_rejected, 0) as rows_rejected
from manifest
left join staged on manifest.batch_id = staged.batch_id
left join duplicates on manifest.batch_id = duplicates.batch_id
left join rejected on manifest.batch_id = rejected.batch_id
where
    manifest.rows_read
    <> coalesce(staged.events_staged, 0)
    + coalesce(duplicates.duplicate_deliveries, 0)
    + coalesce(rejected.rows_rejected, 0)
