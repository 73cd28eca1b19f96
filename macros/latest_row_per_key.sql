{#
    The rows of `relation` that are the latest version of their key: one row per key, chosen by
    `order_by` (first wins). Adds `version_rank` (always 1) for the caller to leave out.
#}
{% macro latest_row_per_key(relation, key_columns, order_by) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}
