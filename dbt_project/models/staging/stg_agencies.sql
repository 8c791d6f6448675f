with

source as (

    select * from {{ source('raw', 'agencies') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by agency_uscc, _period_month
            order by _ingested_at desc, _source_file desc, _source_row desc
        ) as duplicate_rank
    from source

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
    _reporting_region as reporting_region_code,
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
