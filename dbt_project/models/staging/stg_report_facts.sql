with

source as (

    select * from {{ source('raw', 'report_facts') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by doc, fact_index order by _ingested_at desc, _source_file desc
        ) as duplicate_rank
    from source

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
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
