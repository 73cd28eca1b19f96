{#- Transaction metrics per reporting date: macro transaction_metrics. -#}
{{ shoplens.transaction_metrics(by_channel=false) }}
