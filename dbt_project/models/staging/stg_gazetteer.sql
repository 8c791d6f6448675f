with

source as (

    {{ deduplicated(source('raw', 'gazetteer'), ['adcode'], order_by=['name']) }}

)

select
    trim(adcode) as adcode,
    trim(name) as region_name,
    lower(trim(level)) as region_level,
    nullif(trim(parent_adcode), '') as parent_adcode
from source
