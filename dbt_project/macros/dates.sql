{#- Date helpers built on dbt's cross-database macros. -#}

{#- First day of the month of a date or timestamp, as a date. -#}
{% macro month_start(expression) -%}
    cast({{ dbt.date_trunc('month', expression) }} as date)
{%- endmacro %}

{#- Last day of the month of a date, as a date. -#}
{% macro month_end(expression) -%}
    cast({{ dbt.last_day(expression, 'month') }} as date)
{%- endmacro %}

{#- A date shifted by a whole number of days, months or years, as a date. -#}
{% macro add_to_date(datepart, interval, expression) -%}
    cast({{ dbt.dateadd(datepart, interval, expression) }} as date)
{%- endmacro %}

{#- A date from integer year, month and day expressions. -#}
{% macro make_date(year, month, day) -%}
    {{ return(adapter.dispatch('make_date', 'shegong')(year, month, day)) }}
{%- endmacro %}

{% macro default__make_date(year, month, day) -%}
    make_date(cast({{ year }} as integer), cast({{ month }} as integer), cast({{ day }} as integer))
{%- endmacro %}

{% macro duckdb__make_date(year, month, day) -%}
    make_date(cast({{ year }} as bigint), cast({{ month }} as bigint), cast({{ day }} as bigint))
{%- endmacro %}

{#- Integer yyyymmdd key of a date. -#}
{% macro date_key(expression) -%}
    cast(extract(year from {{ expression }}) * 10000 + extract(month from {{ expression }}) * 100
        + extract(day from {{ expression }}) as integer)
{%- endmacro %}

{#-
    The as-of date of point-in-time models: var('as_of_date') when given (ISO date), else the last day of the
    latest reporting month in the data (from int_months).
-#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select max(month_end) from {{ ref('int_months') }} where is_reporting_month)
    {%- endif -%}
{%- endmacro %}

{#-
    True when a version row (valid_from month inclusive, valid_to month exclusive, null while in force) is the
    one in force in the month starting at `month_start`. Versions are expanded to months only where a model
    aggregates per month: materialising a row per person and month multiplied the data twelvefold.
-#}
{% macro version_in_force(version, month_start) -%}
    ({{ version }}.valid_from <= {{ month_start }}
        and ({{ version }}.valid_to is null or {{ version }}.valid_to > {{ month_start }}))
{%- endmacro %}
