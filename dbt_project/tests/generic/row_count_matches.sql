{#-
    Fails (one row) unless the model has as many rows as `to` (or as `to` has distinct `distinct_columns`):
    rows reconcile between layers, so no row was dropped or duplicated on the way.
-#}
{% test row_count_matches(model, to, distinct_columns=none) %}

with

model_rows as (

    select count(*) as row_count from {{ model }}

),

upstream_rows as (

    {%- if distinct_columns %}
    select count(*) as row_count
    from (select distinct {{ distinct_columns | join(', ') }} from {{ to }}) as keys
    {%- else %}
    select count(*) as row_count from {{ to }}
    {%- endif %}

)

select
    model_rows.row_count as model_rows,
    upstream_rows.row_count as upstream_rows
from model_rows
cross join upstream_rows
where model_rows.row_count <> upstream_rows.row_count

{% endtest %}
