with

catalogue as (

    select * from {{ ref('stg_metric_catalogue') }}

),

definitions as (

    select * from {{ ref('metric_registry_definitions') }}

)

select
    {{ generate_surrogate_key(['catalogue.metric_code']) }} as metric_sk,
    catalogue.metric_code,
    catalogue.metric_category,
    catalogue.metric_unit,
    catalogue.metric_name_zh,
    catalogue.metric_name_en,
    catalogue.metric_description,
    definitions.metric_code is not null as is_registry_answerable,
    definitions.registry_source,
    coalesce(
        definitions.registry_definition,
        'Not answerable from the registries: no registry records this figure; reported values are not_comparable.'
    ) as registry_definition
from catalogue
left join definitions
    on catalogue.metric_code = definitions.metric_code
