{#-
    The report figures as analysts left them: each extracted figure with its applied review (rejected, or
    metric / value / region / year corrected), plus the figures reviewers added. Extracted and reviewed values
    both stay, with the review's provenance.
-#}
with

facts as (

    select * from {{ ref('stg_report_facts') }}

),

applied as (

    select * from {{ ref('int_report_review_matches') }}
    where review_status = 'applied'

),

catalogue as (

    select * from {{ ref('stg_metric_catalogue') }}

),

extracted as (

    select
        facts.report_fact_id,
        facts.doc,
        facts.fact_index,
        facts.fact_key,
        coalesce(applied.corrected_metric_code, facts.metric_code) as metric_code,
        facts.metric_code as extracted_metric_code,
        coalesce(applied.corrected_value, facts.reported_value) as reported_value,
        facts.reported_value as extracted_value,
        applied.corrected_value as reviewed_value,
        case
            when applied.corrected_metric_code is null then facts.unit
            when catalogue.metric_unit = 'person' and facts.unit = 'person_time' then facts.unit
            else catalogue.metric_unit
        end as unit,
        facts.qualifier,
        facts.is_target,
        coalesce(applied.corrected_region_name, facts.region_name) as region_name,
        case
            when applied.corrected_region_name is not null or applied.corrected_adcode is not null
                then applied.corrected_adcode
            else facts.adcode
        end as adcode,
        facts.adcode as extracted_adcode,
        coalesce(applied.corrected_year, facts.report_year) as report_year,
        facts.report_year as extracted_year,
        facts.quote,
        facts.confidence,
        case
            when applied.review_action = 'reject' then 'rejected'
            when applied.review_action = 'correct' then 'corrected'
            else 'unreviewed'
        end as review_status,
        applied.review_id,
        applied.reviewer_masked,
        applied.review_reason,
        applied.reviewed_at,
        applied.source_file as review_source_file,
        applied.source_row as review_source_row,
        facts.source_file,
        facts.source_sha256
    from facts
    left join applied
        on facts.report_fact_id = applied.report_fact_id
    left join catalogue
        on applied.corrected_metric_code = catalogue.metric_code

),

added as (

    select
        {{ generate_surrogate_key(['applied.doc', 'applied.review_id']) }} as report_fact_id,
        applied.doc,
        cast(null as integer) as fact_index,
        cast(null as {{ dbt.type_string() }}) as fact_key,
        applied.corrected_metric_code as metric_code,
        cast(null as {{ dbt.type_string() }}) as extracted_metric_code,
        applied.corrected_value as reported_value,
        cast(null as {{ dbt.type_float() }}) as extracted_value,
        applied.corrected_value as reviewed_value,
        catalogue.metric_unit as unit,
        'exact' as qualifier,
        false as is_target,
        applied.corrected_region_name as region_name,
        applied.corrected_adcode as adcode,
        cast(null as {{ dbt.type_string() }}) as extracted_adcode,
        applied.corrected_year as report_year,
        cast(null as integer) as extracted_year,
        applied.quote,
        cast(null as {{ dbt.type_float() }}) as confidence,
        'added' as review_status,
        applied.review_id,
        applied.reviewer_masked,
        applied.review_reason,
        applied.reviewed_at,
        applied.source_file as review_source_file,
        applied.source_row as review_source_row,
        applied.source_file,
        cast(null as {{ dbt.type_string() }}) as source_sha256
    from applied
    inner join catalogue
        on applied.corrected_metric_code = catalogue.metric_code
    where applied.review_action = 'add'

)

select * from extracted
union all
select * from added
