-- Every property of the tracking plan seed has a typed column in stg_mini_program__events
-- (macro event_property_columns) of the same type, and every property a requirement depends
-- on (required_when_property) is staged too: staging reads the JSON for exactly those
-- properties (json_pick). Returns the properties that are not.

with

plan_properties as (

    select distinct
        property_name,
        data_type
    from {{ ref('tracking_plan__event_properties') }}

),

conditions as (

    select distinct required_when_property as property_name
    from {{ ref('tracking_plan__event_properties') }}
    where required_when_property is not null

),

staged_columns as (

    {% for spec in shoplens.event_property_columns() %}
        select
            '{{ spec.property }}' as property_name,
            '{{ spec.type }}' as data_type
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select plan_properties.*
from plan_properties
left join staged_columns
    on
        plan_properties.property_name = staged_columns.property_name
        and plan_properties.data_type = staged_columns.data_type
where staged_columns.property_name is null

union all

select
    conditions.property_name,
    'condition' as data_type
from conditions
left join staged_columns
    on conditions.property_name = staged_columns.property_name
where staged_columns.property_name is null
