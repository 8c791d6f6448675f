with

source as (

    select * from {{ source('raw', 'report_reviews') }}

),

ranked as (

    select
        source.*,
        row_number() over (partition by review_id order by _ingested_at desc) as duplicate_rank
    from source

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
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
