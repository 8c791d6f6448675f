{{ config(**restaged_by_month_config('workers')) }}

with

source as (

    {{ deduplicated(
        source('raw', 'workers'),
        ['certificate_no', '_period_month'],
        where=raw_months_to_restage(source('raw', 'workers')),
    ) }}

)

select
    {{ generate_surrogate_key(['certificate_no', '_period_month']) }} as worker_record_id,
    trim(certificate_no) as certificate_no,
    cast(_period_month as date) as period_month,
    trim(id_number_hash) as id_number_hash,
    trim(worker_name_masked) as worker_name_masked,
    trim(birth_year_band) as birth_year_band,
    lower(trim(gender)) as gender,
    trim(phone_hash) as phone_hash,
    lower(trim(certificate_level)) as certificate_level,
    cast(certified_on as date) as certified_on,
    cast(registered_on as date) as registered_on,
    lower(trim(registration_status)) as registration_status,
    nullif(trim(employer_uscc), '') as employer_uscc,
    nullif(trim(employer_name), '') as employer_name,
    nullif(trim(station_code), '') as station_code,
    trim(region_code) as region_code,
    substr(trim(region_code), 1, 6) as county_code,
    {{ provenance_columns() }}
from source
