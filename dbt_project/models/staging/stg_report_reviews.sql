with

source as (

    {{ deduplicated(source('raw', 'report_reviews'), ['review_id']) }}

)

select
    review_id,
    trim(document) as doc,
    nullif(trim(fact_key), '') as fact_key,
    nullif(trim(quote), '') as quote,
    action as review_action,
    nullif(trim(metric), '') as corrected_metric_code,
    cast(value as {{ dbt.type_float() }}) as corrected_value,
    nullif(trim(region), '') as corrected_region_name,
    nullif(trim(adcode), '') as corrected_adcode,
    cast(year as integer) as corrected_year,
    reviewer_masked,
    reason as review_reason,
    reviewed_at,
    {{ provenance_columns(with_region=false) }}
from source
