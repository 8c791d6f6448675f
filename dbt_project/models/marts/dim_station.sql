{#- Township stations and village rooms, one row each; attributes from the latest roster row (type 1). -#}
with

ranked as (

    select
        stations.*,
        row_number() over (
            partition by stations.station_code
            order by stations.period_month desc, stations.ingested_at desc, stations.source_row desc
        ) as recency_rank,
        min(stations.period_month) over (partition by stations.station_code) as first_roster_month
    from {{ ref('stg_stations') }} as stations

),

latest as (

    select * from ranked
    where recency_rank = 1

),

referenced as (

    select distinct station_code
    from {{ ref('stg_workers') }}
    where
        station_code is not null
        and station_code not in (select latest.station_code from latest)

)

select
    {{ generate_surrogate_key(['station_code']) }} as station_sk,
    station_code,
    station_name,
    station_level,
    region_code,
    {{ generate_surrogate_key(['region_code']) }} as region_sk,
    county_code,
    opened_on,
    operating_status,
    operator_uscc,
    case when operator_uscc is not null then {{ generate_surrogate_key(['operator_uscc']) }} end
        as operator_agency_sk,
    resident_workers,
    first_roster_month,
    period_month as last_roster_month,
    true as is_on_roster,
    source_file,
    source_row
from latest
union all
select
    {{ generate_surrogate_key(['station_code']) }} as station_sk,
    station_code,
    {{ dbt.concat(["'(not on roster) '", "station_code"]) }} as station_name,
    cast(null as {{ dbt.type_string() }}) as station_level,
    cast(null as {{ dbt.type_string() }}) as region_code,
    cast(null as {{ dbt.type_string() }}) as region_sk,
    cast(null as {{ dbt.type_string() }}) as county_code,
    cast(null as date) as opened_on,
    cast(null as {{ dbt.type_string() }}) as operating_status,
    cast(null as {{ dbt.type_string() }}) as operator_uscc,
    cast(null as {{ dbt.type_string() }}) as operator_agency_sk,
    cast(null as {{ dbt.type_bigint() }}) as resident_workers,
    cast(null as date) as first_roster_month,
    cast(null as date) as last_roster_month,
    false as is_on_roster,
    cast(null as {{ dbt.type_string() }}) as source_file,
    cast(null as integer) as source_row
from referenced
