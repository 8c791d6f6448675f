with

source as (

    {{ deduplicated(
        source('raw', 'training_attendance'),
        ['session_code', 'id_number_hash'],
        order_by=['_period_month desc'] + delivery_order(),
    ) }}

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
    {{ provenance_columns() }}
from source
