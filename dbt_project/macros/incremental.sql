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

{#-
    Config of the monthly incremental marts, per engine: DuckDB deletes and re-inserts the run's months
    (delete+insert on the month column); Spark's Parquet tables have no delete, so they are partitioned by the
    month and a run overwrites exactly the partitions it writes (insert_overwrite, dynamic partition overwrite).
-#}
{% macro monthly_incremental_config(month_column) -%}
    {%- if target.type == 'spark' -%}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'insert_overwrite',
            'partition_by': [month_column],
            'file_format': 'parquet',
            'on_schema_change': 'fail',
        }) }}
    {%- else -%}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'delete+insert',
            'unique_key': month_column,
            'on_schema_change': 'fail',
        }) }}
    {%- endif -%}
{%- endmacro %}
