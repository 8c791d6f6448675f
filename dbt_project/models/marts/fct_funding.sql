select
    contract_no,
    project_name,
    funding_source,
    {{ generate_surrogate_key(['funding_source']) }} as funding_source_sk,
    purchaser_region_code,
    {{ generate_surrogate_key(['purchaser_region_code']) }} as purchaser_region_sk,
    provider_uscc,
    case when provider_uscc is not null then {{ generate_surrogate_key(['provider_uscc']) }} end
        as provider_agency_sk,
    amount_yuan,
    signed_on,
    {{ date_key('signed_on') }} as signed_date_key,
    cast(extract(year from signed_on) as integer) as signed_year,
    service_start_on,
    service_end_on,
    {{ dbt.datediff('service_start_on', 'service_end_on', 'day') }} + 1 as service_days, -- noqa: LT05
    period_month,
    source_file,
    source_row
from {{ ref('stg_funding') }}
