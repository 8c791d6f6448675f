select
    {{ generate_surrogate_key(['funding_source']) }} as funding_source_sk,
    funding_source,
    source_name_zh,
    source_name_en,
    reported_metric_code,
    description
from {{ ref('funding_sources') }}
