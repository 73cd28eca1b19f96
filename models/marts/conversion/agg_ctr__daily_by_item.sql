{#- Click-through per reporting date, module and item: macro ctr_metrics. -#}
{{ shoplens.ctr_metrics(['module', 'item_type', 'item_id']) }}
