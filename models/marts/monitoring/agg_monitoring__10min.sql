{{
    config(
        materialized=shoplens.keyed_incremental(),
        unique_key='bucket_start_at',
        post_hook="{{ shoplens.delete_empty_monitoring_buckets() }}",
    )
}}

-- depends_on: {{ ref('int_device_member_links') }}

{{ shoplens.monitoring_metrics(grain='10min') }}
