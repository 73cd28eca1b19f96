{#- Repurchase rate per calendar month: macro repurchase_rate. -#}
{{ shoplens.repurchase_rate("month") }}
