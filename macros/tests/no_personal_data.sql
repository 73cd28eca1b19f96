{#
    Generic test on every public mart (a gate rule keeps it there, src/shoplens/gates.py): no
    string column holds personal data in the clear. One failing row per column and finding:
    - phone_number: a mainland China mobile number (1[3-9] and 9 more digits, optionally after
      +86 / 86) as a whole token: not inside a longer run of letters or digits, so a hex hash
      or a UUID never matches;
    - raw_id: a value equal to a raw anonymous_id or user_id of any raw table (events, users,
      orders, consents): only salted hashes may appear.
    The sample is masked (first 3 and last 2 characters). Columns come from the adapter at run
    time, so a new column is scanned without any change here. Cost per mart: one pass over it
    per string column, and one semi-join of those columns with the distinct raw ids (a scan
    of the raw id columns) — linear in the mart and raw sizes, run on every `dbt build`.
#}
{% test no_personal_data(model) %}

{%- set columns = adapter.get_columns_in_relation(model) if execute else [] -%}
{%- set string_columns = [] -%}
{%- for column in columns if column.is_string() -%}
    {%- do string_columns.append(column.name) -%}
{%- endfor -%}
{%- set phone_pattern = "'(^|[^0-9A-Za-z])([+]?86[- ]?)?1[3-9][0-9]{9}($|[^0-9A-Za-z])'" -%}

with

raw_ids as (

    {%- set id_columns = [
        ('mini_program', 'events', 'anonymous_id'),
        ('mini_program', 'events', 'user_id'),
        ('order_system', 'users', 'user_id'),
        ('order_system', 'orders', 'user_id'),
        ('order_system', 'consents', 'anonymous_id'),
        ('order_system', 'consents', 'user_id'),
    ] %}
    {%- for source_name, table_name, column_name in id_columns %}
    select {{ column_name }} as raw_id from {{ source(source_name, table_name) }}
    where {{ column_name }} is not null
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}

),

findings as (

    {%- for column_name in string_columns %}
    {%- set value = adapter.quote(column_name) %}
    select
        '{{ model.identifier }}' as mart_name,
        '{{ column_name }}' as column_name,
        'phone_number' as finding,
        count(*) as matching_rows,
        min(substr({{ value }}, 1, 3) || '****' || {{ dbt.right(value, 2) }}) as masked_sample
    from {{ model }}
    where {{ shoplens.regex_matches(value, phone_pattern) }}
    union all
    select
        '{{ model.identifier }}' as mart_name,
        '{{ column_name }}' as column_name,
        'raw_id' as finding,
        count(*) as matching_rows,
        min(substr({{ value }}, 1, 3) || '****' || {{ dbt.right(value, 2) }}) as masked_sample
    from {{ model }}
    where {{ value }} in (select raw_ids.raw_id from raw_ids)
    union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as mart_name,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as finding,
        0 as matching_rows,
        cast(null as {{ dbt.type_string() }}) as masked_sample

)

select * from findings
where matching_rows > 0

{% endtest %}
