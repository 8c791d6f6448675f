{#-
    Type-2 history of each certified person (id_number_hash), derived deterministically from the person's
    versions (int_worker_versions): a new dimension version starts where any tracked attribute differs from the
    previous person version (highest level held, registration status, employer, station, region); versions that
    change only untracked attributes merge, keeping the latest one's values.
-#}
with

person_versions as (

    select
        person_versions.*,
        {{ generate_surrogate_key([
            'highest_level', 'registration_status', 'employer_uscc', 'employer_name', 'station_code', 'region_code'
        ]) }} as attribute_hash
    from {{ ref('int_worker_versions') }} as person_versions

),

flagged as (

    select
        person_versions.*,
        case
            when lag(person_versions.attribute_hash) over (
                partition by person_versions.id_number_hash order by person_versions.valid_from
            ) = person_versions.attribute_hash then 0
            else 1
        end as starts_version
    from person_versions

),

numbered as (

    select
        flagged.*,
        sum(flagged.starts_version) over (
            partition by flagged.id_number_hash
            order by flagged.valid_from
            rows between unbounded preceding and current row
        ) as version_number
    from flagged

),

version_rows as (

    select
        numbered.*,
        min(numbered.valid_from) over (
            partition by numbered.id_number_hash, numbered.version_number
        ) as version_valid_from,
        row_number() over (
            partition by numbered.id_number_hash, numbered.version_number order by numbered.valid_from desc
        ) as recency_in_version
    from numbered

),

latest_in_version as (

    select * from version_rows
    where recency_in_version = 1

)

select
    {{ generate_surrogate_key(['id_number_hash', 'version_valid_from']) }} as worker_sk,
    id_number_hash,
    cast(version_number as integer) as version_number,
    version_valid_from as valid_from,
    coalesce(
        lead(version_valid_from) over (partition by id_number_hash order by version_valid_from),
        cast('9999-12-31' as date)
    ) as valid_to,
    lead(version_valid_from) over (partition by id_number_hash order by version_valid_from) is null
        as is_current,
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
