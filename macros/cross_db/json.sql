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


{# Typed getters: the value when its JSON type matches, else null (the mismatch is flagged by the conformance check). #}
{% macro json_get_integer(json_expr, key_sql) -%}
    case when {{ shoplens.json_type_name(json_expr, key_sql) }} = 'integer'
        then cast({{ shoplens.json_get_text(json_expr, key_sql) }} as bigint) end
{%- endmacro %}

{% macro json_get_boolean(json_expr, key_sql) -%}
    case when {{ shoplens.json_type_name(json_expr, key_sql) }} = 'boolean'
        then cast({{ shoplens.json_get_text(json_expr, key_sql) }} as boolean) end
{%- endmacro %}

{% macro json_get_string(json_expr, key_sql) -%}
    case when {{ shoplens.json_type_name(json_expr, key_sql) }} = 'string'
        then {{ shoplens.json_get_text(json_expr, key_sql) }} end
{%- endmacro %}
