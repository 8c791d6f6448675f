{#-
    Fails for every row where a column holds a value outside its code format: `formats` maps a format (a key of
    the project variable `code_formats`: certificate_no, division_code, uscc, hash) to the columns that follow
    it. Nulls pass (not_null says whether a column may be null). One query per mart, whatever its columns:
    the published codes a BI report joins on or filters by are well formed.
-#}
{% test code_formats(model, formats) %}

select *
from {{ model }}
where
    {%- for format, columns in formats.items() %}
    {%- set outer = loop %}
    {%- for column in columns %}
    {{ "or " if not (outer.first and loop.first) }}not {{ matches_code_format(column, format) }}
    {%- endfor %}
    {%- endfor %}

{% endtest %}
