{{ config(materialized=shoplens.keyed_incremental(), unique_key='bucket_start_at') }}

{{ shoplens.monitoring_metrics(grain='10min') }}
