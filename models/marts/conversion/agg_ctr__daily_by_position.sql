{#- Click-through per reporting date, module and position: macro ctr_metrics. -#}
{{ shoplens.ctr_metrics(['module', 'item_position']) }}
