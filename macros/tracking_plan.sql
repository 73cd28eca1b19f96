{#
    Typed columns that staging extracts from event properties, one per property of the
    tracking plan (seed `tracking_plan__event_properties`). The singular test
    `assert_tracking_plan_properties_are_staged` fails when the seed names a property this list
    lacks, or types it differently.
    column: the staging column; pii: hashed with the salt (personal data).
#}
{% macro event_property_columns() -%}
    {{ return([
        {'property': 'scene', 'type': 'integer', 'column': 'scene'},
        {'property': 'is_first_launch', 'type': 'boolean', 'column': 'is_first_launch'},
        {'property': 'utm_source', 'type': 'string', 'column': 'utm_source'},
        {'property': 'utm_campaign', 'type': 'string', 'column': 'utm_campaign'},
        {'property': 'share_user_id', 'type': 'string', 'column': 'share_user_id_hash', 'pii': true},
        {'property': 'duration_ms', 'type': 'integer', 'column': 'duration_ms'},
        {'property': 'page_path', 'type': 'string', 'column': 'page_path'},
        {'property': 'page_type', 'type': 'string', 'column': 'page_type'},
        {'property': 'product_id', 'type': 'string', 'column': 'product_id'},
        {'property': 'referrer_path', 'type': 'string', 'column': 'referrer_path'},
        {'property': 'module', 'type': 'string', 'column': 'module'},
        {'property': 'item_type', 'type': 'string', 'column': 'item_type'},
        {'property': 'item_id', 'type': 'string', 'column': 'item_id'},
        {'property': 'position', 'type': 'integer', 'column': 'item_position'},
        {'property': 'banner_id', 'type': 'string', 'column': 'banner_id'},
        {'property': 'activity_id', 'type': 'string', 'column': 'activity_id'},
        {'property': 'image_index', 'type': 'integer', 'column': 'image_index'},
        {'property': 'sku_id', 'type': 'string', 'column': 'sku_id'},
        {'property': 'quantity', 'type': 'integer', 'column': 'quantity'},
        {'property': 'unit_price_fen', 'type': 'integer', 'column': 'unit_price_fen'},
        {'property': 'quantity_before', 'type': 'integer', 'column': 'quantity_before'},
        {'property': 'quantity_after', 'type': 'integer', 'column': 'quantity_after'},
        {'property': 'item_count', 'type': 'integer', 'column': 'item_count'},
        {'property': 'amount_fen', 'type': 'integer', 'column': 'amount_fen'},
        {'property': 'order_id', 'type': 'string', 'column': 'order_id'},
        {'property': 'pay_amount_fen', 'type': 'integer', 'column': 'pay_amount_fen'},
        {'property': 'pay_method', 'type': 'string', 'column': 'pay_method'},
        {'property': 'error_code', 'type': 'string', 'column': 'error_code'},
        {'property': 'element_id', 'type': 'string', 'column': 'element_id'},
        {'property': 'element_content', 'type': 'string', 'column': 'element_content'},
        {'property': 'share_target', 'type': 'string', 'column': 'share_target'},
    ]) }}
{%- endmacro %}

{# The SQL of one typed property column, read from `picked_expr`: shoplens.json_pick of the
   properties over event_property_names(). #}
{% macro event_property_column(picked_expr, spec) -%}
    {%- set key = shoplens.json_pick_key(shoplens.event_property_names(), "'" ~ spec.property ~ "'") -%}
    {%- set value = shoplens.json_picked_typed(picked_expr, key, spec.type) -%}
    {%- if spec.get('pii') -%}
        {{ shoplens.hash_pii(value) }}
    {%- else -%}
        {{ value }}
    {%- endif %} as {{ spec.column }}
{%- endmacro %}

{# The property names of event_property_columns(), in order. #}
{% macro event_property_names() -%}
    {{ return(shoplens.event_property_columns() | map(attribute='property') | list) }}
{%- endmacro %}

{#
    The value, as text, of the staged property column named by `property_expr` (a SQL
    expression yielding a tracking-plan property name, e.g. a seed column), on the staged event
    row `relation_alias`. Lets seeds filter events by a property without SQL per property
    (funnel steps, click targets). Hashed personal-data properties are not offered; an unknown
    name gives null.
#}
{% macro event_property_as_text(relation_alias, property_expr) -%}
    case {{ property_expr }}
    {%- for spec in shoplens.event_property_columns() if not spec.get('pii') %}
        when '{{ spec.property }}' then cast({{ relation_alias }}.{{ spec.column }} as {{ dbt.type_string() }})
    {%- endfor %}
    end
{%- endmacro %}

{# The property names event_property_as_text offers (for the seeds' tests). #}
{% macro filterable_event_properties() -%}
    {%- set names = [] -%}
    {%- for spec in shoplens.event_property_columns() if not spec.get('pii') -%}
        {%- do names.append(spec.property) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
