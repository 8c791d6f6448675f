{#-
    Stations and village rooms built and operating per county and month, against the number of townships and
    villages the statistics bureau lists for the county (raw.regions).
-#}
with

station_months as (

    select * from {{ ref('int_station_months') }}

),

divisions as (

    select
        county_code,
        cast(sum(case when division_level = 'township' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as townships_total,
        cast(sum(case when division_level = 'village' then 1 else 0 end) as {{ dbt.type_bigint() }}) as villages_total
    from {{ ref('stg_regions') }}
    group by county_code

),

counties as (

    select county_code from divisions
    union
    select county_code from station_months

),

months as (

    select
        month_start,
        month_end
    from {{ ref('int_months') }}
    where month_start >= (select min(station_months.month_start) as first_month from station_months)

),

stations as (

    select
        month_start,
        county_code,
        cast(sum(case when station_level = 'township' and is_built then 1 else 0 end) as {{ dbt.type_bigint() }})
            as township_stations_built,
        cast(
            sum(case when station_level = 'township' and is_operating then 1 else 0 end)
            as {{ dbt.type_bigint() }}
        ) as township_stations_operating,
        cast(sum(case when station_level = 'village' and is_built then 1 else 0 end) as {{ dbt.type_bigint() }})
            as village_rooms_built,
        cast(sum(case when station_level = 'village' and is_operating then 1 else 0 end) as {{ dbt.type_bigint() }})
            as village_rooms_operating,
        cast(sum(case when is_operating then coalesce(resident_workers, 0) else 0 end) as {{ dbt.type_bigint() }})
            as resident_workers
    from station_months
    group by month_start, county_code

),

combined as (

    select
        months.month_start,
        counties.county_code,
        coalesce(stations.township_stations_built, 0) as township_stations_built,
        coalesce(stations.township_stations_operating, 0) as township_stations_operating,
        coalesce(stations.village_rooms_built, 0) as village_rooms_built,
        coalesce(stations.village_rooms_operating, 0) as village_rooms_operating,
        coalesce(stations.resident_workers, 0) as resident_workers,
        coalesce(divisions.townships_total, 0) as townships_total,
        coalesce(divisions.villages_total, 0) as villages_total
    from months
    cross join counties
    left join stations
        on months.month_start = stations.month_start and counties.county_code = stations.county_code
    left join divisions
        on counties.county_code = divisions.county_code

)

select
    {{ generate_surrogate_key(['month_start', 'county_code']) }} as station_coverage_id,
    month_start,
    {{ date_key('month_start') }} as month_date_key,
    county_code,
    {{ generate_surrogate_key(['county_code']) }} as county_region_sk,
    township_stations_built,
    township_stations_operating,
    village_rooms_built,
    village_rooms_operating,
    resident_workers,
    townships_total,
    villages_total,
    {{ percent_rate('township_stations_operating', 'townships_total') }} as township_coverage_rate,
    {{ percent_rate('village_rooms_operating', 'villages_total') }} as village_coverage_rate
from combined
