with

levels as (

    select * from {{ ref('certification_levels') }}

),

defaults as (

    select
        certificate_level,
        required_hours
    from {{ ref('continuing_education_requirements') }}
    where jurisdiction_level = 'default'

)

select
    {{ generate_surrogate_key(['levels.certificate_level']) }} as certification_level_sk,
    levels.certificate_level,
    levels.level_rank,
    levels.level_name_zh,
    levels.level_name_en,
    levels.description,
    defaults.required_hours as default_required_hours
from levels
left join defaults
    on levels.certificate_level = defaults.certificate_level
