{#-
    Every organisation code the registries use: agencies on a roster (attributes from their latest roster row)
    plus employers, funding providers and station operators that no roster lists (is_on_roster = false).
-#}
with

roster_ranked as (

    select
        agencies.*,
        row_number() over (
            partition by agencies.agency_uscc
            order by agencies.period_month desc, agencies.ingested_at desc, agencies.source_row desc
        ) as recency_rank,
        min(agencies.period_month) over (partition by agencies.agency_uscc) as first_roster_month
    from {{ ref('stg_agencies') }} as agencies

),

latest_roster as (

    select * from roster_ranked
    where recency_rank = 1

),

referenced as (

    select
        employer_uscc as agency_uscc,
        employer_name as agency_name,
        period_month as seen_month
    from {{ ref('stg_workers') }}
    where employer_uscc is not null
    union all
    select
        provider_uscc as agency_uscc,
        cast(null as {{ dbt.type_string() }}) as agency_name,
        period_month as seen_month
    from {{ ref('stg_funding') }}
    where provider_uscc is not null
    union all
    select
        operator_uscc as agency_uscc,
        cast(null as {{ dbt.type_string() }}) as agency_name,
        period_month as seen_month
    from {{ ref('stg_stations') }}
    where operator_uscc is not null

),

referenced_ranked as (

    select
        referenced.*,
        row_number() over (
            partition by referenced.agency_uscc
            order by case when referenced.agency_name is null then 1 else 0 end, referenced.seen_month desc
        ) as name_rank
    from referenced
    where referenced.agency_uscc not in (select latest_roster.agency_uscc from latest_roster)

),

unrostered as (

    select
        agency_uscc,
        agency_name
    from referenced_ranked
    where name_rank = 1

)

select
    {{ generate_surrogate_key(['agency_uscc']) }} as agency_sk,
    agency_uscc,
    agency_name,
    region_code,
    {{ generate_surrogate_key(['region_code']) }} as region_sk,
    founded_on,
    registration_status,
    full_time_staff,
    first_roster_month,
    period_month as last_roster_month,
    true as is_on_roster,
    source_file,
    source_row
from latest_roster
union all
select
    {{ generate_surrogate_key(['agency_uscc']) }} as agency_sk,
    agency_uscc,
    coalesce(agency_name, {{ dbt.concat(["'(not on roster) '", "agency_uscc"]) }}) as agency_name,
    cast(null as {{ dbt.type_string() }}) as region_code,
    cast(null as {{ dbt.type_string() }}) as region_sk,
    cast(null as date) as founded_on,
    cast(null as {{ dbt.type_string() }}) as registration_status,
    cast(null as {{ dbt.type_bigint() }}) as full_time_staff,
    cast(null as date) as first_roster_month,
    cast(null as date) as last_roster_month,
    false as is_on_roster,
    cast(null as {{ dbt.type_string() }}) as source_file,
    cast(null as integer) as source_row
from unrostered
