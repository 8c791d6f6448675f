{#-
    The as-of date at which the registries answer each reported figure (rejected figures excluded): for fact
    year Y, A = min(Y-12-31, last day of the month before the report's publication date when known, last
    reporting month's end). Null when the figure has no region or year. With the fact's region prefix (code
    containment, macro region_prefix_length) for the equi-joins of int_registry_figures.
-#}
with

facts as (

    select
        facts.report_fact_id,
        facts.metric_code,
        facts.adcode,
        facts.report_year,
        facts.is_target,
        documents.publication_date
    from {{ ref('int_reviewed_report_facts') }} as facts
    left join {{ ref('stg_report_documents') }} as documents
        on facts.doc = documents.doc
    where facts.review_status <> 'rejected'

),

calendar as (

    select max(month_end) as last_month_end
    from {{ ref('int_months') }}

),

dated as (

    select
        facts.*,
        case
            when facts.adcode is not null and facts.report_year is not null
                then least(
                    {{ make_date('facts.report_year', 12, 31) }},
                    coalesce(
                        {{ add_to_date('day', -1, month_start('facts.publication_date')) }},
                        cast('9999-12-31' as date)
                    ),
                    calendar.last_month_end
                )
        end as as_of_date
    from facts
    cross join calendar

)

select
    report_fact_id,
    metric_code,
    adcode,
    report_year,
    is_target,
    publication_date,
    as_of_date,
    {{ month_start('as_of_date') }} as as_of_month,
    case when as_of_date is not null then {{ region_prefix_length('adcode') }} end as region_prefix_length,
    case when as_of_date is not null then substr(adcode, 1, {{ region_prefix_length('adcode') }}) end
        as region_prefix
from dated
