with

source as (

    {{ deduplicated(source('raw', 'report_facts'), ['doc', 'fact_index'], order_by=delivery_order(with_row=false)) }}

)

select
    {{ generate_surrogate_key(['doc', 'fact_index']) }} as report_fact_id,
    trim(doc) as doc,
    fact_index,
    trim(metric) as metric_code,
    cast(value as {{ dbt.type_float() }}) as reported_value,
    unit,
    qualifier,
    coalesce(is_target, false) as is_target,
    region as region_name,
    nullif(trim(adcode), '') as adcode,
    cast(year as integer) as report_year,
    quote,
    fact_key,
    confidence,
    {{ provenance_columns(with_region=false, with_row=false) }}
from source
