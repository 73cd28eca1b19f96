with

stg_mini_program__events as (

    select * from {{ ref('stg_mini_program__events') }}

),

final as (

    -- One row. The collector's clock is trusted: every reporting day before the one of the
    -- latest received_at is complete. Retention and lifecycle stages are as of that day.
    select
        cast({{ dbt.dateadd('day', -1, shoplens.to_reporting_date('max(received_at)')) }} as date)
            as last_complete_date
    from stg_mini_program__events

)

select * from final
