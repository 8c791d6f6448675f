with

source as (

    select * from {{ source('raw', 'training_sessions') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by session_code
            order by _period_month desc, _ingested_at desc, _source_file desc, _source_row desc
        ) as duplicate_rank
    from source

)

select
    trim(session_code) as session_code,
    trim(session_title) as session_title,
    lower(trim(program)) as program,
    trim(organizer_region_code) as organizer_region_code,
    cast(start_on as date) as start_on,
    cast(end_on as date) as end_on,
    cast(credit_hours as {{ dbt.type_numeric() }}) as credit_hours,
    cast(budget_yuan as {{ dbt.type_numeric() }}) as budget_yuan,
    cast(_period_month as date) as period_month,
    _reporting_region as reporting_region_code,
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
