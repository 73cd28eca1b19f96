{#
    Seeds on Spark, overriding dbt-spark's macros in this project (dispatch looks here first):
    - the seeds' column_types use the names DuckDB and PostgreSQL share (double precision,
      varchar(n)), mapped to Spark's by spark_type_name;
    - rows are inserted as escaped literals: dbt-spark's session method fills its bindings into
      the SQL text without escaping, so a value with a quote ("the event's own module") broke
      the statement. Literals work the same on every connection method.
#}
{% macro spark_seed_column_types(model) -%}
    {%- set mapped = {} -%}
    {%- for name, type in model['config'].get('column_types', {}).items() -%}
        {%- do mapped.update({name: shoplens.spark_type_name(type)}) -%}
    {%- endfor -%}
    {{ return(mapped) }}
{%- endmacro %}

{# dbt-spark's create_csv_table, with the column types mapped. #}
{% macro spark__create_csv_table(model, agate_table) %}
    {%- set column_types = shoplens.spark_seed_column_types(model) -%}
    {%- set sql -%}
        create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set type = column_types.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
            {{ adapter.quote_seed_column(col_name | string, model['config'].get('quote_columns', None)) }} {{ type }}
            {%- if not loop.last %}, {% endif -%}
        {%- endfor -%}
        )
        {{ file_format_clause() }}
        {{ partition_cols(label="partitioned by") }}
        {{ clustered_cols(label="clustered by") }}
        {{ location_clause() }}
        {{ comment_clause() }}
    {%- endset -%}
    {%- call statement('_') -%}
        {{ sql }}
    {%- endcall -%}
    {{ return(sql) }}
{% endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_types = shoplens.spark_seed_column_types(model) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for col_name in agate_table.column_names -%}
                    {%- set type = column_types.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ shoplens.spark_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}
                ){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
