{#- Fails (one row) when the model holds fewer than `min_rows` rows: an empty mart usually means a lost input. -#}
{% test has_rows(model, min_rows=1) %}

select count(*) as row_count
from {{ model }}
having count(*) < {{ min_rows }}

{% endtest %}
