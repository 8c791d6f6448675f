{#-
    md5 of the listed columns cast to text, null-safe (nulls become a sentinel) and separated by '-',
    built only from dbt's cross-database macros, so the key is the same on every adapter.
-#}
{% macro generate_surrogate_key(field_list) -%}
    {%- set fields = [] -%}
    {%- for field in field_list -%}
        {%- do fields.append(
            "coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '_shegong_null_')"
        ) -%}
        {%- if not loop.last -%}{%- do fields.append("'-'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}
