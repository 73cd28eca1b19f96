{#
    Type names that differ between engines. Spark SQL has neither `text` nor `double
    precision`: it says `string` and `double`.
#}

{# A 64-bit float (dbt.type_float() is a 4-byte float on DuckDB). #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'shoplens')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#
    The Spark name of a type the project declares in the names DuckDB and PostgreSQL share
    (model contracts, seed column_types): text and double precision become string and double;
    varchar(n) becomes string (Spark reads it as string anyway, with a warning per cast).
#}
{% macro spark_type_name(type) -%}
    {%- set name = type | trim | lower -%}
    {%- if name in ('text', 'double precision') or name.startswith('varchar') -%}
        {{ return({'text': 'string', 'double precision': 'double'}.get(name, 'string')) }}
    {%- endif -%}
    {{ return(type) }}
{%- endmacro %}

{#
    dbt's cast() on Spark, overridden in this project (dispatch looks here first) so that the
    data types the model contracts declare compare as Spark's own: dbt checks a contract by
    casting a null to every declared type (get_empty_schema_sql) and comparing the result's
    columns with the model's.
#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ shoplens.spark_type_name(type) }})
{%- endmacro %}
