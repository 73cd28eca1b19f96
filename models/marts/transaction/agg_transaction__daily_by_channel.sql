{#- Transaction metrics per reporting date and channel: macro transaction_metrics. -#}
{{ shoplens.transaction_metrics(by_channel=true) }}
