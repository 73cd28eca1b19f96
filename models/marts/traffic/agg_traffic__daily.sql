{#
    Daily traffic metrics (spec/metrics.md, traffic), one row per reporting date. The same
    columns per date and channel are in agg_traffic__daily_by_channel; both come from
    macro traffic_metrics(), so the definitions cannot drift apart.
#}
{{ shoplens.traffic_metrics(by_channel=false) }}
