{{
    config(
        materialized=shoplens.keyed_incremental(),
        unique_key='metric_date',
        post_hook="{{ shoplens.delete_stale_monitoring_buckets('day') }}",
    )
}}

{{ shoplens.monitoring_metrics(grain='day') }}
