{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month_start',
        on_schema_change='fail'
    )
}}

{#-
    Certified workers by county, highest level held and month. Incremental: a run with vars min_month/max_month
    rebuilds exactly those months (delete+insert on month_start); without them every month is rebuilt.
-#}
with

worker_months as (

    select * from {{ ref('int_worker_months') }}
    where
        is_certified
        and {{ incremental_month_window('month_start') }}

)

select
    {{ generate_surrogate_key(['month_start', 'county_code', 'highest_level']) }} as workforce_monthly_id,
    month_start,
    {{ date_key('month_start') }} as month_date_key,
    county_code,
    {{ generate_surrogate_key(['county_code']) }} as county_region_sk,
    highest_level as certificate_level,
    count(distinct id_number_hash) as certified_workers,
    count(distinct case when registration_status = 'active' then id_number_hash end) as active_workers,
    count(distinct case when registration_status = 'suspended' then id_number_hash end) as suspended_workers,
    count(distinct case when registration_status = 'expired' then id_number_hash end) as expired_workers,
    count(distinct case when station_code is not null then id_number_hash end) as station_posted_workers,
    count(distinct case when {{ month_start('certified_on') }} = month_start then id_number_hash end)
        as newly_certified_workers
from worker_months
group by month_start, county_code, highest_level
