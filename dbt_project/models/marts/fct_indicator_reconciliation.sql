with

reported as (

    select * from {{ ref('fct_reported_indicators') }}
    where review_status <> 'rejected'  -- a figure an analyst rejected is not a figure to reconcile

),

registry as (

    select * from {{ ref('int_registry_figures') }}

),

joined as (

    select
        reported.*,
        registry.as_of_date as registry_as_of_date,
        registry.registry_value,
        registry.not_comparable_reason
    from reported
    left join registry
        on reported.report_fact_id = registry.report_fact_id

)

select
    report_fact_id,
    doc,
    fact_index,
    metric_code,
    metric_sk,
    adcode,
    region_sk,
    report_year,
    qualifier,
    is_target,
    unit,
    reported_value,
    extracted_value,
    review_status,
    registry_value,
    registry_as_of_date,
    reported_value - registry_value as difference,
    case when registry_value <> 0 then (reported_value - registry_value) / registry_value end
        as relative_difference,
    case when not_comparable_reason is null then {{ reconciliation_rule('qualifier') }} end as tolerance_rule,
    case
        when not_comparable_reason is not null then 'not_comparable'
        else {{ reconciliation_status('reported_value', 'registry_value', 'qualifier') }}
    end as reconciliation_status,
    coalesce(
        not_comparable_reason,
        case when registry_value is null then 'metric_not_answerable' end
    ) as not_comparable_reason,
    quote,
    source_file
from joined
