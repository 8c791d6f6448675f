with

source as (

    select * from {{ source('raw', 'stations') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by station_code, _period_month
            order by _ingested_at desc, _source_file desc, _source_row desc
        ) as duplicate_rank
    from source

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
    _reporting_region as reporting_region_code,
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
