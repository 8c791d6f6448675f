with

source as (

    {{ deduplicated(
        source('raw', 'training_sessions'),
        ['session_code'],
        order_by=['_period_month desc'] + delivery_order(),
    ) }}

)

select
    trim(session_code) as session_code,
    trim(session_title) as session_title,
    lower(trim(program)) as program,
    trim(organizer_region_code) as organizer_region_code,
    cast(start_on as date) as start_on,
    cast(end_on as date) as end_on,
    cast(credit_hours as {{ dbt.type_numeric() }}) as credit_hours,
    cast(budget_yuan as {{ dbt.type_numeric() }}) as budget_yuan,
    cast(_period_month as date) as period_month,
    {{ provenance_columns() }}
from source
