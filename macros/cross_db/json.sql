{#
    JSON access, one dispatched macro per engine-specific operation.
    `json_expr` is a SQL expression holding a JSON object (DuckDB JSON, PostgreSQL jsonb,
    Spark string). `key_sql` is a SQL expression for the top-level key: a quoted literal
    ("'page_path'") or a column ("plan.property_name").
#}

{% macro json_get_text(json_expr, key_sql) -%}
    {{ return(adapter.dispatch('json_get_text', 'shoplens')(json_expr, key_sql)) }}
{%- endmacro %}

{% macro duckdb__json_get_text(json_expr, key_sql) -%}
    json_extract_string({{ json_expr }}, '$."' || {{ key_sql }} || '"')
{%- endmacro %}

{% macro postgres__json_get_text(json_expr, key_sql) -%}
    ({{ json_expr }} ->> {{ key_sql }})
{%- endmacro %}

{% macro spark__json_get_text(json_expr, key_sql) -%}
    get_json_object({{ json_expr }}, concat('$.', {{ key_sql }}))
{%- endmacro %}


{#
    The JSON type of a top-level key, normalised across engines to one of:
    'string', 'integer' (an integer literal within the 64-bit range), 'number' (any other
    number: 1.5, 1.0, 1e3, or an integer too large for bigint), 'boolean', 'object', 'array',
    'null'; SQL null when the key is absent. Engines agree because both read the text as sent
    (PostgreSQL raw tables use json, not jsonb, which would turn 1e3 into 1000).
#}
{% macro json_type_name(json_expr, key_sql) -%}
    {{ return(adapter.dispatch('json_type_name', 'shoplens')(json_expr, key_sql)) }}
{%- endmacro %}

{% macro duckdb__json_type_name(json_expr, key_sql) -%}
    {{ shoplens.duckdb__json_value_type_name("json_extract(" ~ json_expr ~ ", '$.\"' || " ~ key_sql ~ " || '\"')") }}
{%- endmacro %}

{# DuckDB: the normalised type of a JSON value (as json_extract returns it; SQL null: absent). #}
{% macro duckdb__json_value_type_name(value_expr) -%}
    case json_type({{ value_expr }})
        when 'VARCHAR' then 'string'
        when 'BIGINT' then 'integer'
        -- DuckDB tags every non-negative integer UBIGINT; above the bigint range it is a number.
        when 'UBIGINT' then
            case
                when try_cast(json_extract_string({{ value_expr }}, '$') as bigint) is not null
                    then 'integer'
                else 'number'
            end
        when 'DOUBLE' then 'number'
        when 'BOOLEAN' then 'boolean'
        when 'OBJECT' then 'object'
        when 'ARRAY' then 'array'
        when 'NULL' then 'null'
    end
{%- endmacro %}

{% macro postgres__json_type_name(json_expr, key_sql) -%}
    case json_typeof({{ json_expr }} -> {{ key_sql }})
        when 'number' then
            case
                when
                    ({{ json_expr }} ->> {{ key_sql }}) ~ '^-?[0-9]{1,19}$'
                    and ({{ json_expr }} ->> {{ key_sql }})::numeric
                    between -9223372036854775808 and 9223372036854775807
                    then 'integer'
                else 'number'
            end
        else json_typeof({{ json_expr }} -> {{ key_sql }})
    end
{%- endmacro %}

{% macro spark__json_type_name(json_expr, key_sql) -%}
    {#- Spark has no JSON type function; infer it from the raw text of the value. -#}
    case
        when get_json_object({{ json_expr }}, concat('$.', {{ key_sql }})) is null then null
        when regexp_extract({{ json_expr }}, concat('"', {{ key_sql }}, '"\\s*:\\s*"'), 0) != '' then 'string'
        when get_json_object({{ json_expr }}, concat('$.', {{ key_sql }})) rlike '^-?[0-9]{1,18}$' then 'integer'
        when get_json_object({{ json_expr }}, concat('$.', {{ key_sql }})) rlike '^-?[0-9.eE+-]+$' then 'number'
        when get_json_object({{ json_expr }}, concat('$.', {{ key_sql }})) in ('true', 'false') then 'boolean'
        when get_json_object({{ json_expr }}, concat('$.', {{ key_sql }})) like concat(chr(123), '%') then 'object'
        when get_json_object({{ json_expr }}, concat('$.', {{ key_sql }})) like concat(chr(91), '%') then 'array'
        else 'string'
    end
{%- endmacro %}


{#
    Reading many keys of one JSON object. `json_pick(json_expr, keys)` is one SQL expression
    holding the values of `keys` (top-level key names known when the model compiles), parsed
    once where the engine can: on DuckDB one json_extract with the list of paths (a list of JSON
    values; each key read on its own re-parses the whole object, which made event staging
    slow). Elsewhere it is the object itself, read key by key. Read the result with
    json_picked_type_name / json_picked_text / json_picked_typed, passing the same `keys`;
    `key_sql` is a quoted literal or a column. A key outside `keys` reads as absent on DuckDB.
#}
{% macro json_pick(json_expr, keys) -%}
    {{ return(adapter.dispatch('json_pick', 'shoplens')(json_expr, keys)) }}
{%- endmacro %}

{% macro default__json_pick(json_expr, keys) -%}
    {{ json_expr }}
{%- endmacro %}

{% macro duckdb__json_pick(json_expr, keys) -%}
    json_extract({{ json_expr }}, [
        {%- for key in keys %}'$."{{ key }}"'{{ ', ' if not loop.last }}{% endfor -%}
    ])
{%- endmacro %}

{% macro duckdb__json_picked_value(picked_expr, keys, key_sql) -%}
    {%- set literal = key_sql.strip("'") -%}
    {%- if key_sql.startswith("'") and literal in keys -%}
        {{ picked_expr }}[{{ keys.index(literal) + 1 }}]
    {%- else -%}
        {{ picked_expr }}[list_position([
            {%- for key in keys %}'{{ key }}'{{ ', ' if not loop.last }}{% endfor -%}
        ], {{ key_sql }})]
    {%- endif -%}
{%- endmacro %}

{% macro json_picked_type_name(picked_expr, keys, key_sql) -%}
    {{ return(adapter.dispatch('json_picked_type_name', 'shoplens')(picked_expr, keys, key_sql)) }}
{%- endmacro %}

{% macro default__json_picked_type_name(picked_expr, keys, key_sql) -%}
    {{ shoplens.json_type_name(picked_expr, key_sql) }}
{%- endmacro %}

{% macro duckdb__json_picked_type_name(picked_expr, keys, key_sql) -%}
    {{ shoplens.duckdb__json_value_type_name(shoplens.duckdb__json_picked_value(picked_expr, keys, key_sql)) }}
{%- endmacro %}

{% macro json_picked_text(picked_expr, keys, key_sql) -%}
    {{ return(adapter.dispatch('json_picked_text', 'shoplens')(picked_expr, keys, key_sql)) }}
{%- endmacro %}

{% macro default__json_picked_text(picked_expr, keys, key_sql) -%}
    {{ shoplens.json_get_text(picked_expr, key_sql) }}
{%- endmacro %}

{% macro duckdb__json_picked_text(picked_expr, keys, key_sql) -%}
    json_extract_string({{ shoplens.duckdb__json_picked_value(picked_expr, keys, key_sql) }}, '$')
{%- endmacro %}

{#
    A typed getter: the value when its JSON type is `json_type` ('integer', 'boolean' or
    'string'), else null (the mismatch is flagged by the conformance check).
#}
{% macro json_picked_typed(picked_expr, keys, key_sql, json_type) -%}
    {%- set sql_type = {'integer': 'bigint', 'boolean': 'boolean', 'string': none}[json_type] -%}
    {%- set text = shoplens.json_picked_text(picked_expr, keys, key_sql) -%}
    case when {{ shoplens.json_picked_type_name(picked_expr, keys, key_sql) }} = '{{ json_type }}'
        then {% if sql_type %}cast({{ text }} as {{ sql_type }}){% else %}{{ text }}{% endif %} end
{%- endmacro %}
