{#
    The rows of `relation` that are the latest version of their key: one row per key. Rows are
    ranked by `order_by` (business order, e.g. 'updated_at desc nulls last'), then by load order
    (the latest load, the later file, the later line wins), so the choice is deterministic.
    Adds `version_rank` (always 1) for the caller to leave out.
#}
{% macro latest_row_per_key(relation, key_columns, order_by=none) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {% if order_by %}{{ order_by }}, {% endif -%}
                    _loaded_at desc, _source_file desc, _line_number desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}
