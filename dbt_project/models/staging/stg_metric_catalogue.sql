with

source as (

    {{ deduplicated(source('raw', 'metric_catalogue'), ['code'], order_by=['name_en']) }}

)

select
    trim(code) as metric_code,
    category as metric_category,
    unit as metric_unit,
    name_zh as metric_name_zh,
    name_en as metric_name_en,
    description as metric_description
from source
