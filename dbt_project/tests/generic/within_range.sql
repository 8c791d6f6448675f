{#-
    Fails for every row where one of `columns` lies below `min_value` or above `max_value` (either bound may be
    omitted; nulls pass: not_null says whether a column may be null).
-#}
{% test within_range(model, columns, min_value=none, max_value=none) %}

select *
from {{ model }}
where
    {%- for column in columns %}
    {{ "or " if not loop.first }}(
        {%- if min_value is not none %}{{ column }} < {{ min_value }}{% endif -%}
        {%- if min_value is not none and max_value is not none %} or {% endif -%}
        {%- if max_value is not none %}{{ column }} > {{ max_value }}{% endif -%}
    )
    {%- endfor %}

{% endtest %}
