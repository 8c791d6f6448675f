{{ config(**restaged_by_month_config('agencies')) }}

with

source as (

    {{ deduplicated(
        source('raw', 'agencies'),
        ['agency_uscc', '_period_month'],
        where=raw_months_to_restage(source('raw', 'agencies')),
    ) }}

)

select
    {{ generate_surrogate_key(['agency_uscc', '_period_month']) }} as agency_roster_id,
    trim(agency_uscc) as agency_uscc,
    cast(_period_month as date) as period_month,
    trim(agency_name) as agency_name,
    trim(region_code) as region_code,
    cast(founded_on as date) as founded_on,
    lower(trim(registration_status)) as registration_status,
    legal_representative_masked,
    contact_phone_hash,
    full_time_staff,
    {{ provenance_columns() }}
from source
