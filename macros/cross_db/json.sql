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
    case json_type({{ json_expr }}, '$."' || {{ key_sql }} || '"')
        when 'VARCHAR' then 'string'
        when 'BIGINT' then 'integer'
        -- DuckDB tags every non-negative integer UBIGINT; above the bigint range it is a number.
        when 'UBIGINT' then
            case
                when try_cast(json_extract_string({{ json_expr }}, '$."' || {{ key_sql }} || '"') as bigint) is not null
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
    values; reading each key on its own re-parses the whole object, which made event staging
    slow). Elsewhere it is the object itself, read key by key.
    A key is addressed by `json_pick_key(keys, key_sql)` (`key_sql`: a quoted literal or a
    column holding a key name; on DuckDB its position in `keys`, elsewhere the name itself;
    compute it once, e.g. on the small side of a join); read the value with
    json_picked_type_name / json_picked_text / json_picked_typed. On DuckDB a key outside
    `keys` reads as absent.
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

{% macro json_pick_key(keys, key_sql) -%}
    {{ return(adapter.dispatch('json_pick_key', 'shoplens')(keys, key_sql)) }}
{%- endmacro %}

{% macro default__json_pick_key(keys, key_sql) -%}
    {{ key_sql }}
{%- endmacro %}

{% macro duckdb__json_pick_key(keys, key_sql) -%}
    {%- set literal = key_sql.strip("'") -%}
    {%- if key_sql.startswith("'") and literal in keys -%}
        {{ keys.index(literal) + 1 }}
    {%- else -%}
        list_position([
            {%- for key in keys %}'{{ key }}'{{ ', ' if not loop.last }}{% endfor -%}
        ], {{ key_sql }})
    {%- endif -%}
{%- endmacro %}

{% macro json_picked_type_name(picked_expr, key) -%}
    {{ return(adapter.dispatch('json_picked_type_name', 'shoplens')(picked_expr, key)) }}
{%- endmacro %}

{% macro default__json_picked_type_name(picked_expr, key) -%}
    {{ shoplens.json_type_name(picked_expr, key) }}
{%- endmacro %}

{% macro duckdb__json_picked_type_name(picked_expr, key) -%}
    {#- From the value's text as json_extract writes it (compact: a string starts with a quote,
        a number with a digit or '-'), without parsing it again; the same result as
        duckdb__json_type_name on the object. -#}
    {%- set value = picked_expr ~ '[' ~ key ~ ']' -%}
    case left({{ value }}, 1)
        when '"' then 'string'
        when 't' then 'boolean'
        when 'f' then 'boolean'
        when 'n' then 'null'
        when '{' then 'object'
        when '[' then 'array'
        -- an absent key (SQL null) stays null
        else case when {{ value }} is not null then {{ shoplens.duckdb__json_number_type_name(value) }} end
    end
{%- endmacro %}

{# DuckDB: 'integer' or 'number' for the compact text of a JSON number. #}
{% macro duckdb__json_number_type_name(value) -%}
    case
        when regexp_full_match({{ value }}, '-?[0-9]+') and try_cast({{ value }} as bigint) is not null
            then 'integer'
        else 'number'
    end
{%- endmacro %}

{% macro json_picked_text(picked_expr, key) -%}
    {{ return(adapter.dispatch('json_picked_text', 'shoplens')(picked_expr, key)) }}
{%- endmacro %}

{% macro default__json_picked_text(picked_expr, key) -%}
    {{ shoplens.json_get_text(picked_expr, key) }}
{%- endmacro %}

{% macro duckdb__json_picked_text(picked_expr, key) -%}
    {%- set value = picked_expr ~ '[' ~ key ~ ']' -%}
    case
        -- A string without escapes is its text between the quotes.
        when left({{ value }}, 1) = '"' and not contains({{ value }}, '\')
            then {{ value }}[2:-2]
        else json_extract_string({{ value }}, '$')
    end
{%- endmacro %}

{#
    A typed getter: the value when its JSON type is `json_type` ('integer', 'boolean' or
    'string'), else null (the mismatch is flagged by the conformance check).
#}
{% macro json_picked_typed(picked_expr, key, json_type) -%}
    {{ return(adapter.dispatch('json_picked_typed', 'shoplens')(picked_expr, key, json_type)) }}
{%- endmacro %}

{% macro default__json_picked_typed(picked_expr, key, json_type) -%}
    {%- set sql_type = {'integer': 'bigint', 'boolean': 'boolean', 'string': none}[json_type] -%}
    {%- set text = shoplens.json_picked_text(picked_expr, key) -%}
    case when {{ shoplens.json_picked_type_name(picked_expr, key) }} = '{{ json_type }}'
        then {% if sql_type %}cast({{ text }} as {{ sql_type }}){% else %}{{ text }}{% endif %} end
{%- endmacro %}

{% macro duckdb__json_picked_typed(picked_expr, key, json_type) -%}
    {#- The same as the default, read from the value's compact text (see
        duckdb__json_picked_type_name). -#}
    {%- set value = picked_expr ~ '[' ~ key ~ ']' -%}
    {%- if json_type == 'integer' -%}
        case when regexp_full_match({{ value }}, '-?[0-9]+') then try_cast({{ value }} as bigint) end
    {%- elif json_type == 'boolean' -%}
        case {{ value }} when 'true' then true when 'false' then false end
    {%- else -%}
        case when left({{ value }}, 1) = '"' then {{ shoplens.duckdb__json_picked_text(picked_expr, key) }} end
    {%- endif -%}
{%- endmacro %}
