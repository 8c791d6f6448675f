{#- Daily date spine from 1 January of the earliest year in the data to 31 December of the latest. -#}
with

data_dates as (

    select certified_on as date_day from {{ ref('stg_workers') }}
    union all
    select {{ add_to_date('year', 3, 'registered_on') }} as date_day from {{ ref('stg_workers') }}
    union all
    select opened_on as date_day from {{ ref('stg_stations') }}
    union all
    select signed_on as date_day from {{ ref('stg_funding') }}
    union all
    select service_end_on as date_day from {{ ref('stg_funding') }}
    union all
    select start_on as date_day from {{ ref('stg_training_sessions') }}
    union all
    select end_on as date_day from {{ ref('stg_training_sessions') }}
    union all
    select publication_date as date_day from {{ ref('stg_report_documents') }}
    union all
    select month_end as date_day from {{ ref('int_months') }}

),

bounds as (

    select
        {{ make_date('extract(year from min(date_day))', 1, 1) }} as first_day,
        {{ make_date('extract(year from max(date_day))', 12, 31) }} as last_day
    from data_dates

),

numbers as (

    {{ dbt.generate_series(40000) }}

),

spine as (

    select {{ add_to_date('day', 'numbers.generated_number - 1', 'bounds.first_day') }} as date_day
    from bounds
    cross join numbers
    where numbers.generated_number - 1 <= {{ dbt.datediff('bounds.first_day', 'bounds.last_day', 'day') }}

),

parts as (

    select
        date_day,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(quarter from date_day) as integer) as calendar_quarter,
        cast(extract(month from date_day) as integer) as calendar_month,
        cast(extract(day from date_day) as integer) as day_of_month
    from spine

)

select
    {{ date_key('date_day') }} as date_key,
    date_day,
    calendar_year,
    calendar_quarter,
    calendar_month,
    day_of_month,
    {{ dbt.concat([
        "cast(calendar_year as " ~ dbt.type_string() ~ ")",
        "'-Q'",
        "cast(calendar_quarter as " ~ dbt.type_string() ~ ")"]) }} as year_quarter,
    {{ dbt.concat([
        "cast(calendar_year as " ~ dbt.type_string() ~ ")",
        "'-'",
        "lpad(cast(calendar_month as " ~ dbt.type_string() ~ "), 2, '0')"]) }} as year_month,
    {{ month_start('date_day') }} as month_start,
    {{ month_end('date_day') }} as month_end,
    cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start,
    cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start,
    date_day = {{ month_end('date_day') }} as is_month_end
from parts
