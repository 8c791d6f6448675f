with

source as (

    select * from {{ source('raw', 'regions') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by division_code
            order by _ingested_at desc, _source_file desc, _source_row desc
        ) as duplicate_rank
    from source

)

select
    trim(division_code) as division_code,
    trim(division_name) as division_name,
    {{ region_level_from_code('trim(division_code)') }} as division_level,
    substr(trim(division_code), 1, 6) as county_code,
    nullif(trim(urban_rural_code), '') as urban_rural_code,
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
