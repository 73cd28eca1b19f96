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

{#
    The source rows of an incrementally staged order-system export (payments, orders), keyed by
    `key`: every export on a full build; on an incremental run every export of the keys exported
    since the look-back bound (the newest _loaded_at here minus staging_lookback_minutes). The
    model ranks them with latest_row_per_key and replaces them by key (delete+insert), so each
    key keeps its latest version as in a full build, and a monitoring cycle hashes and writes
    only the keys exported again, not every row of the history.
#}
{% macro exports_of_keys_exported_since(relation, key) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where {{ key }} in (
        select exported.{{ key }}
        from {{ relation }} as exported
        where exported._loaded_at >= {{ shoplens.loaded_since(this) }}
    )
    {%- endif %}
{%- endmacro %}
