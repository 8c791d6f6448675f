{{ config(**restaged_by_month_config('stations')) }}

with

source as (

    {{ deduplicated(
        source('raw', 'stations'),
        ['station_code', '_period_month'],
        where=raw_months_to_restage(source('raw', 'stations')),
    ) }}

)

select
    {{ generate_surrogate_key(['station_code', '_period_month']) }} as station_roster_id,
    trim(station_code) as station_code,
    cast(_period_month as date) as period_month,
    trim(station_name) as station_name,
    lower(trim(station_level)) as station_level,
    trim(region_code) as region_code,
    substr(trim(region_code), 1, 6) as county_code,
    cast(opened_on as date) as opened_on,
    lower(trim(operating_status)) as operating_status,
    nullif(trim(operator_uscc), '') as operator_uscc,
    resident_workers,
    contact_phone_hash,
    {{ provenance_columns() }}
from source
