{#
    Generic test: no two rows share the same values of `columns` (a compound grain key).
    Written here because dbt packages cannot be installed in this project.
#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
