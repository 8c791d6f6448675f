{#-
    Fails (one row) unless the model's latest `column_name` is the latest `field` of `to`: a model built by
    month reaches the last month of its inputs (an incremental run that missed a month fails here).
-#}
{% test is_current(model, column_name, to, field) %}

select
    latest_built.latest_value as latest_built,
    latest_input.latest_value as latest_input
from (select max({{ column_name }}) as latest_value from {{ model }}) as latest_built
cross join (select max({{ field }}) as latest_value from {{ to }}) as latest_input
where not coalesce(latest_built.latest_value = latest_input.latest_value, false)

{% endtest %}
