with

source as (

    select * from {{ source('raw', 'funding') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by contract_no
            order by _period_month desc, _ingested_at desc, _source_file desc, _source_row desc
        ) as duplicate_rank
    from source

)

select
    trim(contract_no) as contract_no,
    trim(project_name) as project_name,
    lower(trim(funding_source)) as funding_source,
    trim(purchaser_region_code) as purchaser_region_code,
    nullif(trim(provider_uscc), '') as provider_uscc,
    cast(amount_yuan as {{ dbt.type_numeric() }}) as amount_yuan,
    cast(signed_on as date) as signed_on,
    cast(service_start_on as date) as service_start_on,
    cast(service_end_on as date) as service_end_on,
    cast(_period_month as date) as period_month,
    _reporting_region as reporting_region_code,
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
