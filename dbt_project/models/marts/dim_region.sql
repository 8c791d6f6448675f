{#-
    Province > city > county > township > village. Provinces, cities and counties come from the national
    gazetteer, townships and villages from raw.regions, and codes used by registries or reports that neither
    lists are added with is_unlisted = true (level from the code's shape, ancestors by prefix).
-#}
with

gazetteer as (

    select
        adcode as region_code,
        region_name,
        region_level,
        parent_adcode,
        'gazetteer' as listed_in
    from {{ ref('stg_gazetteer') }}

),

divisions as (

    select
        division_code as region_code,
        division_name as region_name,
        division_level as region_level,
        cast(null as {{ dbt.type_string() }}) as parent_adcode,
        'statistical_divisions' as listed_in
    from {{ ref('stg_regions') }}
    where division_code not in (select gazetteer.region_code from gazetteer)

),

listed as (

    select * from gazetteer
    union all
    select * from divisions

),

unlisted as (

    select
        seen.region_code,
        cast(null as {{ dbt.type_string() }}) as region_name,
        {{ region_level_from_code('seen.region_code') }} as region_level,
        cast(null as {{ dbt.type_string() }}) as parent_adcode,
        'unlisted' as listed_in
    from {{ ref('int_region_codes_seen') }} as seen
    where seen.region_code not in (select listed.region_code from listed)

),

all_codes as (

    select * from listed
    union all
    select * from unlisted

),

ancestors as (

    select
        all_codes.*,
        {{ dbt.concat(["substr(all_codes.region_code, 1, 2)", "'0000'"]) }} as province_candidate,
        {{ dbt.concat(["substr(all_codes.region_code, 1, 4)", "'00'"]) }} as city_candidate,
        substr(all_codes.region_code, 1, 6) as county_candidate,
        substr(all_codes.region_code, 1, 9) as township_candidate
    from all_codes

),

resolved as (

    select
        ancestors.region_code,
        ancestors.region_name,
        ancestors.region_level,
        ancestors.listed_in,
        ancestors.parent_adcode,
        province.region_code as province_code,
        province.region_name as province_name,
        case when ancestors.region_level <> 'province' then city.region_code end as city_code,
        case when ancestors.region_level <> 'province' then city.region_name end as city_name,
        case
            when ancestors.region_level in ('county', 'township', 'village') then ancestors.county_candidate
        end as county_code,
        case when ancestors.region_level in ('county', 'township', 'village') then county.region_name end
            as county_name,
        case when ancestors.region_level in ('township', 'village') then ancestors.township_candidate end
            as township_code,
        case when ancestors.region_level in ('township', 'village') then township.region_name end
            as township_name,
        case when ancestors.region_level = 'village' then ancestors.region_code end as village_code,
        case when ancestors.region_level = 'village' then ancestors.region_name end as village_name
    from ancestors
    left join all_codes as province
        on ancestors.province_candidate = province.region_code and province.region_level = 'province'
    left join all_codes as city
        on ancestors.city_candidate = city.region_code and city.region_level = 'city'
    left join all_codes as county
        on ancestors.county_candidate = county.region_code
    left join all_codes as township
        on ancestors.township_candidate = township.region_code and township.region_level = 'township'

)

select
    {{ generate_surrogate_key(['resolved.region_code']) }} as region_sk,
    resolved.region_code,
    coalesce(resolved.region_name, {{ dbt.concat(["'(unlisted ' ", "resolved.region_code", "')'"]) }})
        as region_name,
    resolved.region_level,
    case resolved.region_level
        when 'village' then resolved.township_code
        when 'township' then resolved.county_code
        when 'county' then coalesce(resolved.parent_adcode, resolved.city_code, resolved.province_code)
        when 'city' then resolved.province_code
    end as parent_code,
    resolved.province_code,
    resolved.province_name,
    resolved.city_code,
    resolved.city_name,
    resolved.county_code,
    resolved.county_name,
    resolved.township_code,
    resolved.township_name,
    resolved.village_code,
    resolved.village_name,
    resolved.listed_in,
    resolved.listed_in = 'unlisted' as is_unlisted,
    coalesce(seen.is_used_by_registries, false) as is_used_by_registries,
    coalesce(seen.is_used_by_reports, false) as is_used_by_reports
from resolved
left join {{ ref('int_region_codes_seen') }} as seen
    on resolved.region_code = seen.region_code
