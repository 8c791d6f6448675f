{#-
    True where `expression` (text) matches the warehouse's code format `format` whole: a key of the project
    variable `code_formats` (dbt_project.yml), whose anchored patterns RE2 and Java read alike. Null stays null.
-#}
{% macro matches_code_format(expression, format) -%}
    {%- set formats = var('code_formats') -%}
    {%- if format not in formats -%}
        {{ exceptions.raise_compiler_error(
            "unknown code format '" ~ format ~ "': one of " ~ (formats.keys() | list | sort | join(', '))
        ) }}
    {%- endif -%}
    {{ return(adapter.dispatch('matches_code_format', 'shegong')(expression, formats[format])) }}
{%- endmacro %}

{% macro default__matches_code_format(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{#- Spark's rlike finds the pattern anywhere; the patterns are anchored (^…$), so a match is a whole match. -#}
{% macro spark__matches_code_format(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}
