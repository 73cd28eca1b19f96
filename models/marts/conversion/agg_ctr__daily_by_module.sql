{#- Click-through per reporting date and module: macro ctr_metrics. -#}
{{ shoplens.ctr_metrics(['module'], count_unmatched_clicks=true) }}
