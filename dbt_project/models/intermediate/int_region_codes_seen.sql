{#-
    Every division code the registries and reports use, with the ancestors a longer code implies
    (a village's township, a township's or village's county), so dim_region can carry codes no reference lists.
-#}
with

used as (

    select region_code, 'workers' as seen_in from {{ ref('stg_workers') }}
    union all
    select region_code, 'stations' as seen_in from {{ ref('stg_stations') }}
    union all
    select region_code, 'agencies' as seen_in from {{ ref('stg_agencies') }}
    union all
    select purchaser_region_code as region_code, 'funding' as seen_in from {{ ref('stg_funding') }}
    union all
    select organizer_region_code as region_code, 'training_sessions' as seen_in
    from {{ ref('stg_training_sessions') }}
    union all
    select adcode as region_code, 'reports' as seen_in from {{ ref('stg_report_facts') }}
    union all
    select main_adcode as region_code, 'reports' as seen_in from {{ ref('stg_report_documents') }}

),

direct as (

    select
        region_code,
        seen_in,
        count(*) as row_count
    from used
    where region_code is not null
    group by region_code, seen_in

),

implied as (

    select
        substr(region_code, 1, 9) as region_code,
        seen_in,
        0 as row_count
    from direct
    where {{ dbt.length('region_code') }} = 12
    union all
    select
        substr(region_code, 1, 6) as region_code,
        seen_in,
        0 as row_count
    from direct
    where {{ dbt.length('region_code') }} in (9, 12)

),

combined as (

    select region_code, seen_in, row_count from direct
    union all
    select region_code, seen_in, row_count from implied

),

by_source as (

    select
        region_code,
        seen_in,
        sum(row_count) as row_count
    from combined
    group by region_code, seen_in

)

select
    region_code,
    {{ sorted_listagg('seen_in', "', '") }} as seen_in,
    sum(case when seen_in <> 'reports' then row_count else 0 end) as registry_row_count,
    max(case when seen_in <> 'reports' then 1 else 0 end) = 1 as is_used_by_registries,
    max(case when seen_in = 'reports' then 1 else 0 end) = 1 as is_used_by_reports
from by_source
group by region_code
