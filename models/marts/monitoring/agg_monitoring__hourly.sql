{{
    config(
        materialized=shoplens.keyed_incremental(),
        unique_key='bucket_start_at',
        post_hook="{{ shoplens.delete_stale_monitoring_buckets('hour') }}",
    )
}}

{{ shoplens.monitoring_metrics(grain='hour') }}
