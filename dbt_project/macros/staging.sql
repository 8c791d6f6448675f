{#-
    The order in which deliveries of the same key replace each other: the latest ingest wins, then the later
    file name, then the later row of that file (a department that re-sends a corrected file, or lists a record
    twice, means its newest line). Raw tables without row numbers (report extraction) drop `_source_row`.
-#}
{% macro delivery_order(with_row=true) -%}
    {%- set order = ['_ingested_at desc', '_source_file desc'] -%}
    {%- if with_row -%}{%- do order.append('_source_row desc') -%}{%- endif -%}
    {{ return(order) }}
{%- endmacro %}

{#-
    One row per `key_columns` of a raw relation: the first by `order_by` (default: the delivery order above).
    Emits a whole select of the relation's columns plus `duplicate_rank` (always 1), for the caller to wrap in
    a CTE. Written with a window and a filter rather than QUALIFY, which Spark SQL lacks.
-#}
{% macro deduplicated(relation, key_columns, order_by=none) -%}
    {%- set order = order_by if order_by is not none else delivery_order() -%}
select *
from (

    select
        source.*,
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by {{ order | join(', ') }}
        ) as duplicate_rank
    from {{ relation }} as source

) as ranked
where duplicate_rank = 1
{%- endmacro %}

{#-
    The provenance every staging row carries from the raw layer's loader columns: the reporting region that
    sent the file (monthly registries only), the file, its SHA-256, the row in it (tabular files only) and
    when it was ingested.
-#}
{% macro provenance_columns(with_region=true, with_row=true) -%}
    {%- if with_region %}
    _reporting_region as reporting_region_code,
    {%- endif %}
    _source_file as source_file,
    _source_sha256 as source_sha256,
    {%- if with_row %}
    _source_row as source_row,
    {%- endif %}
    _ingested_at as ingested_at
{%- endmacro %}
