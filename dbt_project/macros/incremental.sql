{#-
    Partition window of incremental models: on an incremental run, restrict `column` (a month-start date) to the
    inclusive [var('min_month'), var('max_month')] range; an unset bound is open. On a full build every month is
    built. Emits a boolean SQL expression.
-#}
{% macro incremental_month_window(column) -%}
    {%- set conditions = [] -%}
    {%- if is_incremental() -%}
        {%- if var('min_month', none) -%}
            {%- do conditions.append(column ~ " >= " ~ month_start("cast('" ~ var('min_month') ~ "' as date)")) -%}
        {%- endif -%}
        {%- if var('max_month', none) -%}
            {%- do conditions.append(column ~ " <= " ~ month_start("cast('" ~ var('max_month') ~ "' as date)")) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}({{ conditions | join(' and ') }}){%- else -%}(1 = 1){%- endif -%}
{%- endmacro %}
