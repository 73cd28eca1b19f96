{#
    Personal data (phone numbers, openids / device ids, member ids) is replaced in staging by a
    salted SHA-256 hex digest, so the same person joins across tables but no raw value reaches
    a mart.

    The salt is a secret (SHOPLENS_PII_SALT) and never appears in SQL text, so it is not in
    dbt's logs or target/ either: the SQL calls a per-session value instead.
    - DuckDB: `shoplens_pii_salt()`, registered by the dbt-duckdb plugin
      shoplens.dbt_duckdb_plugin (see profiles.yml) from SHOPLENS_PII_SALT.
    - PostgreSQL: the session setting `shoplens.pii_salt`, passed by libpq from
      PGOPTIONS="-c shoplens.pii_salt=<salt>" (the shoplens CLI sets it from SHOPLENS_PII_SALT).
    - Spark: the session conf `spark.shoplens.pii_salt_hex`, the salt's UTF-8 bytes in hex, set
      from SHOPLENS_PII_SALT by the profile (server_side_parameters), read through Spark's
      variable substitution `${spark.shoplens.pii_salt_hex}`: Spark replaces it when it parses
      the statement, after dbt has logged it, so the SQL dbt writes holds only the placeholder.
      Hex because Spark redacts conf values that look like secrets (spark.redaction.regex: a salt
      containing "secret" or "token" would read as "*********(redacted)"). Unset reads as ''.
    Without a salt, both use the public demo salt and every run warns (warn_if_demo_salt).
#}

{% macro demo_pii_salt() -%}
    {{ return('shoplens-demo-salt-not-secret') }}
{%- endmacro %}

{# SQL expression of the session's salt. #}
{% macro pii_salt_sql() -%}
    {{ return(adapter.dispatch('pii_salt_sql', 'shoplens')()) }}
{%- endmacro %}

{% macro duckdb__pii_salt_sql() -%}
    shoplens_pii_salt()
{%- endmacro %}

{% macro postgres__pii_salt_sql() -%}
    coalesce(nullif(current_setting('shoplens.pii_salt', true), ''), '{{ shoplens.demo_pii_salt() }}')
{%- endmacro %}

{% macro spark__pii_salt_sql() -%}
    coalesce(nullif(decode(unhex('${spark.shoplens.pii_salt_hex}'), 'UTF-8'), ''), '{{ shoplens.demo_pii_salt() }}')
{%- endmacro %}

{% macro default__pii_salt_sql() -%}
    {{ exceptions.raise_compiler_error(
        "Shoplens: no way to pass the PII salt to " ~ adapter.type() ~ " sessions yet"
    ) }}
{%- endmacro %}

{% macro hash_pii(expr) -%}
    {{ return(adapter.dispatch('hash_pii', 'shoplens')(expr)) }}
{%- endmacro %}

{% macro duckdb__hash_pii(expr) -%}
    case when {{ expr }} is not null then sha256({{ shoplens.pii_salt_sql() }} || {{ expr }}) end
{%- endmacro %}

{% macro postgres__hash_pii(expr) -%}
    case
        when {{ expr }} is not null
            then encode(sha256(convert_to({{ shoplens.pii_salt_sql() }} || {{ expr }}, 'UTF8')), 'hex')
    end
{%- endmacro %}

{% macro spark__hash_pii(expr) -%}
    case when {{ expr }} is not null then sha2(concat({{ shoplens.pii_salt_sql() }}, {{ expr }}), 256) end
{%- endmacro %}

{# on-run-start: warn when this session hashes with the public demo salt. #}
{% macro warn_if_demo_salt() -%}
    {%- if execute -%}
        {%- set result = run_query("select " ~ shoplens.pii_salt_sql() ~ " = '" ~ shoplens.demo_pii_salt() ~ "'") -%}
        {%- if result.columns[0].values()[0] -%}
            {{ log("WARNING: personal data is hashed with the public demo salt. Set SHOPLENS_PII_SALT "
                   ~ "to a secret before loading real data (on PostgreSQL also "
                   ~ "PGOPTIONS=\"-c shoplens.pii_salt=$SHOPLENS_PII_SALT\"; on a Spark cluster the "
                   ~ "session conf spark.shoplens.pii_salt_hex, the salt in hex).", info=True) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#
    A narrow 128-bit key of an event id (its MD5 as a number on DuckDB, a uuid on PostgreSQL; the
    hex string elsewhere, Spark included): staging's duplicate check compares it instead of the
    id strings (on DuckDB, against 30M staged events, 0.055 s instead of 0.42 s for the
    semi-join alone; docs/performance.md). Not a secret and not unique by itself: a match is
    confirmed on event_id.
#}
{% macro event_key(expr) -%}
    {{ return(adapter.dispatch('event_key', 'shoplens')(expr)) }}
{%- endmacro %}

{% macro duckdb__event_key(expr) -%}
    md5_number({{ expr }})
{%- endmacro %}

{% macro postgres__event_key(expr) -%}
    cast(md5({{ expr }}) as uuid)
{%- endmacro %}

{% macro default__event_key(expr) -%}
    md5({{ expr }})
{%- endmacro %}
