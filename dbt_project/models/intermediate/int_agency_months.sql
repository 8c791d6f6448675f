with

rosters_by_month as (

    {{ rosters_as_of_months(ref('stg_agencies'), 'agency_uscc') }}

)

select
    {{ generate_surrogate_key(['agency_uscc', 'month_start']) }} as agency_month_id,
    month_start,
    month_end,
    roster_month,
    agency_uscc,
    agency_name,
    region_code,
    founded_on,
    registration_status,
    full_time_staff,
    registration_status = 'active' as is_active,
    reporting_region_code,
    source_file,
    source_row
from rosters_by_month
