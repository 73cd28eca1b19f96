{{ config(materialized=shoplens.keyed_incremental(), unique_key='metric_date') }}

{{ shoplens.monitoring_metrics(grain='day') }}
