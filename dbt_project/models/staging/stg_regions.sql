with

source as (

    {{ deduplicated(source('raw', 'regions'), ['division_code']) }}

)

select
    trim(division_code) as division_code,
    trim(division_name) as division_name,
    {{ region_level_from_code('trim(division_code)') }} as division_level,
    substr(trim(division_code), 1, 6) as county_code,
    nullif(trim(urban_rural_code), '') as urban_rural_code,
    {{ provenance_columns(with_region=false) }}
from source
