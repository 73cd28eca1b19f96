{#- SKU ranking per reporting date: macro sku_ranking. -#}
{{ shoplens.sku_ranking("day") }}
