{#-
    Type-2 history of each certified person (id_number_hash), derived deterministically from the monthly
    person states: a new version starts in the first month any tracked attribute differs from the previous
    month (highest level held, registration status, employer, station, region).
-#}
with

worker_months as (

    select
        worker_months.*,
        {{ generate_surrogate_key([
            'highest_level', 'registration_status', 'employer_uscc', 'employer_name', 'station_code', 'region_code'
        ]) }} as attribute_hash
    from {{ ref('int_worker_months') }} as worker_months

),

flagged as (

    select
        worker_months.*,
        case
            when lag(worker_months.attribute_hash) over (
                partition by worker_months.id_number_hash order by worker_months.month_start
            ) = worker_months.attribute_hash then 0
            else 1
        end as starts_version
    from worker_months

),

numbered as (

    select
        flagged.*,
        sum(flagged.starts_version) over (
            partition by flagged.id_number_hash
            order by flagged.month_start
            rows between unbounded preceding and current row
        ) as version_number,
        row_number() over (
            partition by flagged.id_number_hash order by flagged.month_start desc
        ) as months_from_last
    from flagged

),

versions as (

    select
        id_number_hash,
        version_number,
        min(month_start) as valid_from
    from numbered
    group by id_number_hash, version_number

),

version_rows as (

    select
        numbered.*,
        versions.valid_from,
        row_number() over (
            partition by numbered.id_number_hash, numbered.version_number order by numbered.month_start desc
        ) as recency_in_version
    from numbered
    inner join versions
        on
            numbered.id_number_hash = versions.id_number_hash
            and numbered.version_number = versions.version_number

),

latest_in_version as (

    select * from version_rows
    where recency_in_version = 1

)

select
    {{ generate_surrogate_key(['id_number_hash', 'valid_from']) }} as worker_sk,
    id_number_hash,
    cast(version_number as integer) as version_number,
    valid_from,
    coalesce(
        lead(valid_from) over (partition by id_number_hash order by valid_from),
        cast('9999-12-31' as date)
    ) as valid_to,
    lead(valid_from) over (partition by id_number_hash order by valid_from) is null as is_current,
    worker_name_masked,
    birth_year_band,
    gender,
    highest_level as certificate_level,
    primary_certificate_no,
    certified_on,
    registration_status,
    is_certified,
    certificates_held,
    employer_uscc,
    employer_name,
    case when employer_uscc is not null then {{ generate_surrogate_key(['employer_uscc']) }} end
        as employer_agency_sk,
    station_code,
    case when station_code is not null then {{ generate_surrogate_key(['station_code']) }} end as station_sk,
    region_code,
    {{ generate_surrogate_key(['region_code']) }} as region_sk,
    county_code,
    {{ generate_surrogate_key(['county_code']) }} as county_region_sk,
    source_file,
    source_row
from latest_in_version
