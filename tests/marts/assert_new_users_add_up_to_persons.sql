-- Every person is new exactly once: new users over all days (and over all channels) equal the
-- distinct persons with a valid event, counted straight from the sessionized events.
-- Returns a row when they differ.

with

persons as (

    select count(distinct person_id) as persons
    from {{ ref('int_events_sessionized') }}

),

daily as (

    select sum(new_users) as new_users
    from {{ ref('agg_traffic__daily') }}

),

by_channel as (

    select sum(new_users) as new_users
    from {{ ref('agg_traffic__daily_by_channel') }}

)

select
    persons.persons,
    daily.new_users as daily_new_users,
    by_channel.new_users as channel_new_users
from persons
cross join daily
cross join by_channel
where persons.persons <> daily.new_users or persons.persons <> by_channel.new_users
