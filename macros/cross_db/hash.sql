{#
    Personal data (phone numbers, openids / device ids, member ids) is replaced in staging by a
    salted SHA-256 hex digest, so the same person joins across tables but no raw value reaches
    a mart. The salt comes from the SHOPLENS_PII_SALT environment variable; without it a demo
    salt is used and every run warns.
#}

{% macro pii_salt() -%}
    {{ return(env_var('SHOPLENS_PII_SALT', shoplens.demo_pii_salt())) }}
{%- endmacro %}

{% macro demo_pii_salt() -%}
    {{ return('shoplens-demo-salt-not-secret') }}
{%- endmacro %}

{% macro hash_pii(expr) -%}
    {{ return(adapter.dispatch('hash_pii', 'shoplens')(expr, shoplens.pii_salt() | replace("'", "''"))) }}
{%- endmacro %}

{% macro duckdb__hash_pii(expr, salt) -%}
    case when {{ expr }} is not null then sha256('{{ salt }}' || {{ expr }}) end
{%- endmacro %}

{% macro postgres__hash_pii(expr, salt) -%}
    case when {{ expr }} is not null then encode(sha256(convert_to('{{ salt }}' || {{ expr }}, 'UTF8')), 'hex') end
{%- endmacro %}

{% macro spark__hash_pii(expr, salt) -%}
    case when {{ expr }} is not null then sha2(concat('{{ salt }}', {{ expr }}), 256) end
{%- endmacro %}

{% macro warn_if_demo_salt() -%}
    {%- if execute and shoplens.pii_salt() == shoplens.demo_pii_salt() -%}
        {{ log("WARNING: SHOPLENS_PII_SALT is not set; personal data is hashed with the public demo salt. "
               ~ "Set SHOPLENS_PII_SALT to a secret value before loading real data.", info=True) }}
    {%- endif -%}
{%- endmacro %}
