{#- Month spine from the first to the last reporting month found in any monthly registry. -#}
with

registry_months as (

    select period_month from {{ ref('stg_workers') }}
    union all
    select period_month from {{ ref('stg_stations') }}
    union all
    select period_month from {{ ref('stg_agencies') }}
    union all
    select period_month from {{ ref('stg_funding') }}
    union all
    select period_month from {{ ref('stg_training_sessions') }}
    union all
    select period_month from {{ ref('stg_training_attendance') }}

),

bounds as (

    select
        min(period_month) as first_month,
        max(period_month) as last_month
    from registry_months

),

numbers as (

    {{ dbt.generate_series(1200) }}

),

spine as (

    select
        {{ add_to_date('month', 'numbers.generated_number - 1', 'bounds.first_month') }} as month_start,
        bounds.last_month
    from bounds
    cross join numbers

)

select
    month_start,
    {{ month_end('month_start') }} as month_end,
    cast(extract(year from month_start) as integer) as calendar_year,
    cast(extract(quarter from month_start) as integer) as calendar_quarter,
    cast(extract(month from month_start) as integer) as calendar_month,
    month_start = last_month as is_last_reporting_month,
    true as is_reporting_month
from spine
where month_start <= last_month
