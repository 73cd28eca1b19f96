{#- Repurchase rate per ISO week (Monday start): macro repurchase_rate. -#}
{{ shoplens.repurchase_rate("week") }}
