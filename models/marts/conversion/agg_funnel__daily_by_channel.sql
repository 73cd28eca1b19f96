{#- Funnels per reporting date and channel: macro funnel_metrics. -#}
{{ shoplens.funnel_metrics(by_channel=true) }}
