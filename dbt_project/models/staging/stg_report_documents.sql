with

source as (

    select * from {{ source('raw', 'report_documents') }}

),

ranked as (

    select
        source.*,
        row_number() over (partition by doc order by _ingested_at desc, _source_file desc) as duplicate_rank
    from source

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
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _ingested_at as ingested_at
from ranked
where duplicate_rank = 1
