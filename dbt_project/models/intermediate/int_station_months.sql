with

rosters_by_month as (

    {{ rosters_as_of_months(ref('stg_stations'), 'station_code') }}

)

select
    {{ generate_surrogate_key(['station_code', 'month_start']) }} as station_month_id,
    month_start,
    month_end,
    roster_month,
    station_code,
    station_name,
    station_level,
    region_code,
    county_code,
    opened_on,
    operating_status,
    operator_uscc,
    resident_workers,
    opened_on <= month_end and operating_status <> 'closed' as is_built,
    opened_on <= month_end and operating_status = 'operating' as is_operating,
    reporting_region_code,
    source_file,
    source_row
from rosters_by_month
