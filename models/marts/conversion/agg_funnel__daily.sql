{#- Funnels per reporting date: macro funnel_metrics. -#}
{{ shoplens.funnel_metrics(by_channel=false) }}
