{#
    PostgreSQL as the serving warehouse (README, "Serving BI from PostgreSQL"). On PostgreSQL:

    - on-run-start creates the BI role (dbt var serving_role, default bi_reader; NOLOGIN: BI
      tools log in as their own users, made members of it) if it is missing, and grants it USAGE
      on the schemas of the public marts (once per run: two threads granting on one schema at
      once fail with "tuple concurrently updated");
    - a post-hook on every public mart grants the role SELECT on each column except those
      marked `meta: {personal_data: hashed}` (column privileges, so `select *` on such a mart is
      refused), and creates an index on each column marked `meta: {index: true}` (the dates,
      channels and products BI filters on).

    Nothing is granted on any other schema (raw, staging, intermediate, reference) or model.
    Tables are recreated by dbt, so the post-hook runs on every build; it is idempotent, and
    on incremental marts it revokes first so the grants always match the YAML. Other engines:
    nothing (no roles to serve from a DuckDB file).
#}

{% macro serving_role() %}
    {%- set role = var('serving_role', 'bi_reader') -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var serving_role must be a lowercase PostgreSQL role name "
            ~ "(letters, digits, underscores), not '" ~ role ~ "'") }}
    {%- endif -%}
    {{ return(role) }}
{% endmacro %}

{% macro set_up_serving() %}
    {{ return(adapter.dispatch('set_up_serving', 'shoplens')()) }}
{% endmacro %}

{% macro default__set_up_serving() %}{% endmacro %}

{% macro postgres__set_up_serving() %}
    {%- set role = shoplens.serving_role() -%}
    {%- set schemas = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.access == 'public' -%}
            {%- if node.schema not in schemas -%}{%- do schemas.append(node.schema) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    -- Roles are cluster-wide: a concurrent build may create it between the check and the create.
    do $serving$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            create role "{{ role }}" nologin;
        end if;
    exception
        when duplicate_object or unique_violation then null;
    end
    $serving$;
    {%- for schema in schemas | sort %}
    -- Not created yet when this run builds no public mart: granted by the run that does.
    do $serving$
    begin
        if exists (select 1 from pg_namespace where nspname = '{{ schema }}') then
            grant usage on schema "{{ schema }}" to "{{ role }}";
        end if;
    end
    $serving$;
    {%- endfor %}
{% endmacro %}

{% macro serve_public_mart() %}
    {{ return(adapter.dispatch('serve_public_mart', 'shoplens')()) }}
{% endmacro %}

{% macro default__serve_public_mart() %}{% endmacro %}

{% macro postgres__serve_public_mart() %}
    {%- if execute and model.access == 'public' -%}
        {%- set role = '"' ~ shoplens.serving_role() ~ '"' -%}
        {%- set readable = [] -%}
        {%- set indexed = [] -%}
        {%- for column in model.columns.values() -%}
            {%- if column.meta.get('personal_data') != 'hashed' -%}
                {%- do readable.append(adapter.quote(column.name)) -%}
            {%- endif -%}
            {%- if column.meta.get('index') is sameas true -%}
                {%- do indexed.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not readable -%}
            {{ exceptions.raise_compiler_error(model.name ~ ": no column to grant to " ~ role) }}
        {%- endif -%}
        revoke all on {{ this }} from {{ role }};
        grant select ({{ readable | join(', ') }}) on {{ this }} to {{ role }};
        {%- for column in indexed %}
        -- By the indexed column, not the name: a rebuilt table's predecessor (renamed to a
        -- backup until the commit) still holds an index of the same name.
        do $serving$
        begin
            if not exists (
                select 1 from pg_index
                inner join pg_attribute
                    on pg_attribute.attrelid = pg_index.indrelid
                    and pg_attribute.attnum = pg_index.indkey[0]
                where
                    pg_index.indrelid = '"{{ this.schema }}"."{{ this.identifier }}"'::regclass
                    and pg_index.indnatts = 1
                    and pg_attribute.attname = '{{ column }}'
            ) then
                create index on {{ this }} ("{{ column }}");
            end if;
        end
        $serving$;
        {%- endfor %}
    {%- endif -%}
{% endmacro %}
