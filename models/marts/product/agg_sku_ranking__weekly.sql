{#- SKU ranking per ISO week (Monday start): macro sku_ranking. -#}
{{ shoplens.sku_ranking("week") }}
