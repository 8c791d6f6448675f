with

source as (

    select * from {{ source('raw', 'metric_catalogue') }}

),

ranked as (

    select
        source.*,
        row_number() over (partition by code order by name_en) as duplicate_rank
    from source

)

select
    trim(code) as metric_code,
    category as metric_category,
    unit as metric_unit,
    name_zh as metric_name_zh,
    name_en as metric_name_en,
    description as metric_description
from ranked
where duplicate_rank = 1
