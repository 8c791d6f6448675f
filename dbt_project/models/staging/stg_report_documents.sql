with

source as (

    {{ deduplicated(source('raw', 'report_documents'), ['doc'], order_by=delivery_order(with_row=false)) }}

)

select
    trim(doc) as doc,
    title,
    published as published_text,
    cast(publication_date as date) as publication_date,
    language,
    main_region as main_region_name,
    nullif(trim(main_adcode), '') as main_adcode,
    facts as fact_count,
    cast(stats as {{ dbt.type_string() }}) as extraction_stats,
    nullif(trim(url), '') as document_url,
    published_source,
    publisher,
    cast(quality as {{ dbt.type_string() }}) as extraction_quality,
    quality_score as extraction_quality_score,
    {{ provenance_columns(with_region=false, with_row=false) }}
from source
