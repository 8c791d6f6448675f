with

source as (

    select * from {{ source('raw', 'gazetteer') }}

),

ranked as (

    select
        source.*,
        row_number() over (partition by adcode order by name) as duplicate_rank
    from source

)

select
    trim(adcode) as adcode,
    trim(name) as region_name,
    lower(trim(level)) as region_level,
    nullif(trim(parent_adcode), '') as parent_adcode
from ranked
where duplicate_rank = 1
