{#-
    Every review with the figure it applies to, decided again on each build so a review survives re-extraction:
    a reject / correct names its figure by fact key, else by a quote contained in the figure's quote; it applies
    when exactly one figure of its document matches. An add applies when its document is known and its figure
    is not (yet) among the extracted ones. Of several reviews of one figure the latest applies.
-#}
with

reviews as (

    select * from {{ ref('stg_report_reviews') }}

),

facts as (

    select * from {{ ref('stg_report_facts') }}

),

documents as (

    select doc from {{ ref('stg_report_documents') }}

),

fact_matches as (

    select
        reviews.review_id,
        facts.report_fact_id
    from reviews
    inner join facts
        on
            reviews.doc = facts.doc
            and (
                reviews.fact_key = facts.fact_key
                or (reviews.fact_key is null and {{ dbt.position('reviews.quote', 'facts.quote') }} > 0)
            )
    where reviews.review_action in ('reject', 'correct')

),

match_counts as (

    select
        review_id,
        count(*) as matched_facts,
        min(report_fact_id) as report_fact_id
    from fact_matches
    group by review_id

),

already_extracted as (

    select distinct reviews.review_id
    from reviews
    inner join facts
        on
            reviews.doc = facts.doc
            and reviews.corrected_metric_code = facts.metric_code
            and abs(facts.reported_value - reviews.corrected_value) <= 0.005 * abs(reviews.corrected_value)
    where reviews.review_action = 'add'

),

classified as (

    select
        reviews.*,
        coalesce(match_counts.matched_facts, 0) as matched_facts,
        case when match_counts.matched_facts = 1 then match_counts.report_fact_id end as report_fact_id,
        case
            when documents.doc is null then 'unknown_document'
            when reviews.review_action = 'add' and already_extracted.review_id is not null
                then 'already_extracted'
            when reviews.review_action = 'add' then 'matched'
            when match_counts.matched_facts is null then 'unmatched'
            when match_counts.matched_facts > 1 then 'ambiguous'
            else 'matched'
        end as match_status
    from reviews
    left join match_counts
        on reviews.review_id = match_counts.review_id
    left join documents
        on reviews.doc = documents.doc
    left join already_extracted
        on reviews.review_id = already_extracted.review_id

),

ranked as (

    select
        classified.*,
        row_number() over (
            partition by coalesce(classified.report_fact_id, classified.review_id)
            order by classified.reviewed_at desc, classified.ingested_at desc, classified.review_id desc
        ) as recency_rank
    from classified

)

select
    review_id,
    doc,
    fact_key,
    quote,
    review_action,
    corrected_metric_code,
    corrected_value,
    corrected_region_name,
    corrected_adcode,
    corrected_year,
    reviewer_masked,
    review_reason,
    reviewed_at,
    source_file,
    source_row,
    matched_facts,
    report_fact_id,
    case
        when match_status = 'matched' and recency_rank = 1 then 'applied'
        when match_status = 'matched' then 'superseded'
        else match_status
    end as review_status
from ranked
