with

source as (

    select * from {{ source('raw', 'training_attendance') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by session_code, id_number_hash
            order by _period_month desc, _ingested_at desc, _source_file desc, _source_row desc
        ) as duplicate_rank
    from source

)

select
    {{ generate_surrogate_key(['session_code', 'id_number_hash']) }} as attendance_id,
    trim(session_code) as session_code,
    trim(id_number_hash) as id_number_hash,
    trim(attendee_name_masked) as attendee_name_masked,
    trim(birth_year_band) as birth_year_band,
    lower(trim(gender)) as gender,
    nullif(trim(certificate_no), '') as certificate_no,
    cast(credited_hours as {{ dbt.type_numeric() }}) as credited_hours,
    {{ text_to_boolean('completed') }} as is_completed,
    cast(_period_month as date) as period_month,
    _reporting_region as reporting_region_code,
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
