{#
    Daily traffic metrics per reporting date and channel. Events count on their own date in the
    channel of their session; a person active in two channels counts once in each (so
    active_users do not add up over channels), while new_users do: a new user counts in the
    channel of the session of their first event.
#}
{{ shoplens.traffic_metrics(by_channel=true) }}
