{#-
    Partition window of incremental models: on an incremental run, restrict `column` (a month-start date) to the
    inclusive [SHEGONG_DBT_MIN_MONTH, SHEGONG_DBT_MAX_MONTH] range of ISO month starts, read from the environment
    (Dagster's monthly dbt step sets both; by hand: `SHEGONG_DBT_MIN_MONTH=2024-03-01 dbt build ...`); an unset
    or empty bound is open. On a full build every month is built. Emits a boolean SQL expression.
    Why the environment and not --vars: dbt re-parses the whole project whenever --vars differ from its saved
    parse state's, and a window differs from run to run; these variables are read only when a model runs
    incrementally, never while parsing (orchestration/shegong/defs/dbt.py, MIN_MONTH_ENV).
-#}
{% macro incremental_month_window(column) -%}
    {%- set conditions = [] -%}
    {%- if is_incremental() -%}
        {%- set min_month = env_var('SHEGONG_DBT_MIN_MONTH', '') -%}
        {%- set max_month = env_var('SHEGONG_DBT_MAX_MONTH', '') -%}
        {%- if min_month -%}
            {%- do conditions.append(column ~ " >= " ~ month_start("cast('" ~ min_month ~ "' as date)")) -%}
        {%- endif -%}
        {%- if max_month -%}
            {%- do conditions.append(column ~ " <= " ~ month_start("cast('" ~ max_month ~ "' as date)")) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}({{ conditions | join(' and ') }}){%- else -%}(1 = 1){%- endif -%}
{%- endmacro %}

{#-
    The tag of the models a run rebuilds by its month window (the config macros below set it): Dagster's
    partitioned dbt step builds them, everything downstream of them and every test reading them, after the
    unpartitioned step (orchestration/shegong/defs/dbt.py selects `tag:month_window+`).
-#}
{% macro month_window_tags() -%}
    {{ return(['month_window']) }}
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
            'tags': month_window_tags(),
        }) }}
    {%- else -%}
        {{ return(duckdb_delete_insert_config(month_column, tags=month_window_tags())) }}
    {%- endif -%}
{%- endmacro %}

{#-
    The DuckDB config every incremental model shares: delete+insert on `unique_key` (a run's rows replace every
    row with the same key), a failed run when the columns changed (`--full-refresh` rebuilds the table), and the
    model's hooks (`{'pre_hook': ...}` or `{'post_hook': ...}`) and tags.
-#}
{% macro duckdb_delete_insert_config(unique_key, hooks={}, tags=[]) -%}
    {%- set config = {
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
        'tags': tags,
    } -%}
    {%- do config.update(hooks) -%}
    {{ return(config) }}
{%- endmacro %}

{#-
    Incremental on DuckDB (duckdb_delete_insert_config); on Spark, whose Parquet tables have no delete, a whole
    table built every run.
-#}
{% macro incremental_on_duckdb_config(unique_key, hooks={}, tags=[]) -%}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table', 'tags': tags}) }}
    {%- endif -%}
    {{ return(duckdb_delete_insert_config(unique_key, hooks, tags)) }}
{%- endmacro %}

{#-
    Config of the version models (one row per key per version, rebuilt key by key), per engine. DuckDB: an
    incremental run rebuilds every version of the keys (persons or certificates) a change in the run's months
    can reach, and deletes them first (delete+insert on the key; the pre-hook drops the keys that had a version
    starting in the months, so a key a superseded file took away entirely goes too). Spark's Parquet tables have
    no delete: a full table build.
-#}
{% macro version_history_config(key_column) -%}
    {{ return(incremental_on_duckdb_config(
        key_column,
        hooks={'pre_hook': "{{ delete_versions_starting_in_window('" ~ key_column ~ "') }}"},
        tags=month_window_tags(),
    )) }}
{%- endmacro %}

{#-
    Pre-hook of the version models on an incremental run: delete every version of the keys that had a version
    starting in the run's months. What a change in those months did to them (a record taken away by a
    superseded file, a certificate moved to another person) is rebuilt from the inputs by
    keys_to_rebuild, which also rebuilds every key left with no versions.
-#}
{% macro delete_versions_starting_in_window(key_column) -%}
    {%- if is_incremental() -%}
delete from {{ this }}
where {{ key_column }} in (
    select {{ key_column }} from {{ this }}
    where {{ incremental_month_window('valid_from') }}
)
    {%- endif -%}
{%- endmacro %}

{#-
    The keys an incremental run of a version model rebuilds: those of `relation` rows matching `in_window` (a
    change in the run's months), and every key of `relation` the model does not hold (new keys, and those the
    pre-hook deleted). Emits a select of one column, `key_column`.
-#}
{% macro keys_to_rebuild(relation, key_column, in_window) -%}
select inputs.{{ key_column }}
from {{ relation }} as inputs
where {{ in_window }}
union
select inputs.{{ key_column }}
from {{ relation }} as inputs
where not exists (
    select 1 from {{ this }} as built
    where built.{{ key_column }} = inputs.{{ key_column }}
)
{%- endmacro %}

{#-
    When the dbt invocation that wrote a row started (dbt's run_started_at, UTC): the `built_at` column of the
    version models and of the marts rebuilt key by key from them. A mart rebuilds the keys built upstream after
    its own latest row (macro built_after_own_rows); the same value in one invocation orders a model after the
    models it reads.
-#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#-
    On an incremental run of a mart rebuilt key by key: a boolean SQL expression, true where `column` (an
    upstream `built_at`) is later than the newest `built_at` of the mart itself, i.e. the upstream rows written
    since the mart last applied them (by a failed or skipped run too). A mart built before it had a `built_at`
    column rebuilds every key, and dbt's schema check then asks for `--full-refresh`.
-#}
{% macro built_after_own_rows(column) -%}
    {%- set own_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if 'built_at' in own_columns -%}
({{ column }} > {{ newest_in_this('built_at') }})
    {%- else -%}
(1 = 1)
    {%- endif -%}
{%- endmacro %}

{#-
    Config of the marts rebuilt key by key from the version models (dim_worker by person, fct_certifications by
    certificate), per engine. DuckDB: an incremental run rebuilds the keys whose upstream rows were built since
    the mart's own latest build (delete+insert on the key), and the pre-hook deletes the keys `upstream` (a model
    name) no longer holds. Spark's Parquet tables have no delete: a full table build.
-#}
{% macro rebuilt_by_key_config(key_column, upstream) -%}
    {{ return(incremental_on_duckdb_config(
        key_column, hooks={'pre_hook': "{{ delete_keys_gone('" ~ key_column ~ "', ref('" ~ upstream ~ "')) }}"}
    )) }}
{%- endmacro %}

{#-
    Hook of an incremental model, on an incremental run: delete the rows whose `key_column` value `upstream` no
    longer holds (in its column `upstream_column`, by default the same name). The marts rebuilt by key run it
    first: a superseded file took away every record of a certificate, or of a person (the keys still held are
    replaced by delete+insert). The staging models restaged by month run it last, on the source file.
-#}
{% macro delete_keys_gone(key_column, upstream, upstream_column=none) -%}
    {%- if is_incremental() -%}
delete from {{ this }}
where not exists (
    select 1 from {{ upstream }} as upstream
    where upstream.{{ upstream_column or key_column }} = {{ this }}.{{ key_column }}
)
    {%- endif -%}
{%- endmacro %}

{#-
    The newest value of `column` among the model's own rows, as a scalar subquery (1900-01-01 while the model is
    empty): the watermark of the models that rebuild what was written after their last run.
-#}
{% macro newest_in_this(column) -%}
(select coalesce(max(own.{{ column }}), cast('1900-01-01' as timestamp)) from {{ this }} as own)
{%- endmacro %}
