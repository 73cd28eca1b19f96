with

fct_page_views as (

    select * from {{ ref('fct_page_views') }}

),

final as (

    select
        view_date as metric_date,
        page_type,
        page_path,
        count(*) as pv,
        count(distinct person_id) as uv,
        avg(stay_seconds) as avg_stay_seconds,
        cast(sum(case when is_entry then 1 else 0 end) as bigint) as entries,
        cast(sum(case when is_exit then 1 else 0 end) as bigint) as exits,
        {{ shoplens.ratio('sum(case when is_exit then 1 else 0 end)', 'count(*)') }} as exit_rate
    from fct_page_views
    group by view_date, page_type, page_path

)

select * from final
