{#
    The materialization of the models that are incremental by key (delete+insert on a unique
    key: event sessionization, sessions, page views, the monitoring buckets). dbt-spark without
    Delta / Iceberg (not in the pyspark wheel) has only `append` and `insert_overwrite`:
    neither replaces the changed rows of a key. insert_overwrite replaces whole partitions,
    while these models recompute some rows of a day (the sessions late events touch), so it
    would lose the others. On Spark these models are therefore plain tables, rebuilt in full
    on every run: the same rows as an incremental run, at the cost of recomputing history.
    Call it in a config(): materialized=shoplens.keyed_incremental().
#}
{% macro keyed_incremental() -%}
    {{ return(adapter.dispatch('keyed_incremental', 'shoplens')()) }}
{%- endmacro %}

{% macro default__keyed_incremental() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__keyed_incremental() -%}
    {{ return('table') }}
{%- endmacro %}
