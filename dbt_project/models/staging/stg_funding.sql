with

source as (

    {{ deduplicated(
        source('raw', 'funding'),
        ['contract_no'],
        order_by=['_period_month desc'] + delivery_order(),
    ) }}

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
    {{ provenance_columns() }}
from source
