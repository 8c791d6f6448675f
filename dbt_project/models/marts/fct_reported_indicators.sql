select
    facts.report_fact_id,
    facts.doc,
    facts.fact_index,
    documents.title as doc_title,
    documents.publication_date,
    case when documents.publication_date is not null then {{ date_key('documents.publication_date') }} end
        as publication_date_key,
    documents.language,
    facts.metric_code,
    {{ generate_surrogate_key(['facts.metric_code']) }} as metric_sk,
    facts.region_name as reported_region_name,
    facts.adcode,
    case when facts.adcode is not null then {{ generate_surrogate_key(['facts.adcode']) }} end as region_sk,
    facts.report_year,
    facts.reported_value,
    facts.unit,
    facts.qualifier,
    facts.is_target,
    facts.quote,
    facts.source_file,
    facts.source_sha256
from {{ ref('stg_report_facts') }} as facts
left join {{ ref('stg_report_documents') }} as documents
    on facts.doc = documents.doc
