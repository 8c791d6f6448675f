{{ config(**monthly_incremental_config('month_start')) }}

{#-
    Certified workers by county, highest level held and month (one version in force per person and month, so
    rows count people). Incremental: a run with a month window (SHEGONG_DBT_MIN_MONTH / SHEGONG_DBT_MAX_MONTH,
    macro incremental_month_window) rebuilds exactly those months
    (delete+insert on month_start in DuckDB, insert_overwrite of the month partitions on Spark); without them
    every month is rebuilt.
-#}
with

worker_months as (

    select
        months.month_start,
        versions.*
    from {{ ref('int_worker_versions') }} as versions
    inner join {{ ref('int_months') }} as months
        on {{ version_in_force('versions', 'months.month_start') }}
    where
        versions.is_certified
        and {{ incremental_month_window('months.month_start') }}

)

select
    {{ generate_surrogate_key(['month_start', 'county_code', 'highest_level']) }} as workforce_monthly_id,
    month_start,
    {{ date_key('month_start') }} as month_date_key,
    county_code,
    {{ generate_surrogate_key(['county_code']) }} as county_region_sk,
    highest_level as certificate_level,
    count(*) as certified_workers,
    count(case when registration_status = 'active' then 1 end) as active_workers,
    count(case when registration_status = 'suspended' then 1 end) as suspended_workers,
    count(case when registration_status = 'expired' then 1 end) as expired_workers,
    count(case when station_code is not null then 1 end) as station_posted_workers,
    count(case when {{ month_start('certified_on') }} = month_start then 1 end) as newly_certified_workers
from worker_months
group by month_start, county_code, highest_level
