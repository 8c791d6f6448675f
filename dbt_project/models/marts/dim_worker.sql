{{ config(**rebuilt_by_key_config('id_number_hash', 'int_worker_versions')) }}

{#-
    Type-2 history of each certified person (id_number_hash), derived deterministically from the person's
    versions (int_worker_versions): a new dimension version starts where any tracked attribute differs from the
    previous person version (highest level held, registration status, employer, station, region); versions that
    change only untracked attributes merge, keeping the latest one's values.

    Incremental (DuckDB): a person's dimension versions depend on that person's versions only, so a run rebuilds,
    from all their versions, the persons int_worker_versions rebuilt since this model's latest build (and any
    person it lacks); the pre-hook deletes the persons left with no version.
-#}
with

person_versions as (

    select
        person_versions.*,
        {{ generate_surrogate_key([
            'highest_level', 'registration_status', 'employer_uscc', 'employer_name', 'station_code', 'region_code'
        ]) }} as attribute_hash
    from {{ ref('int_worker_versions') }} as person_versions
    {%- if is_incremental() %}
    where person_versions.id_number_hash in (
        {{ keys_to_rebuild(ref('int_worker_versions'), 'id_number_hash', built_after_own_rows('inputs.built_at')) }}
    )
    {%- endif %}

),

-- One pass over each person's versions in time order: the neighbours' tracked attributes, and when the next
-- version starts (the end of a dimension version is where the next one starts).
neighbours as (

    select
        person_versions.*,
        lag(person_versions.attribute_hash) over (
            partition by person_versions.id_number_hash order by person_versions.valid_from
        ) as previous_attribute_hash,
        lead(person_versions.attribute_hash) over (
            partition by person_versions.id_number_hash order by person_versions.valid_from
        ) as next_attribute_hash,
        lead(person_versions.valid_from) over (
            partition by person_versions.id_number_hash order by person_versions.valid_from
        ) as next_valid_from
    from person_versions

),

-- The first and the last person version of each run of equal tracked attributes (one row when both; a
-- person's first version starts a run, the last ends one).
flagged as (

    select
        neighbours.*,
        coalesce(neighbours.previous_attribute_hash <> neighbours.attribute_hash, true) as starts_version,
        coalesce(neighbours.next_attribute_hash <> neighbours.attribute_hash, true) as ends_version
    from neighbours

),

boundaries as (

    select * from flagged
    where starts_version or ends_version

),

-- Among the boundaries, a run's last version follows its first: the dimension version starts there, and
-- counting the runs started so far numbers it.
latest_in_version as (

    select
        boundaries.*,
        case
            when boundaries.starts_version then boundaries.valid_from
            else lag(boundaries.valid_from) over (
                partition by boundaries.id_number_hash order by boundaries.valid_from
            )
        end as version_valid_from,
        sum(case when boundaries.starts_version then 1 else 0 end) over (
            partition by boundaries.id_number_hash
            order by boundaries.valid_from
            rows between unbounded preceding and current row
        ) as version_number
    from boundaries

)

select
    {{ generate_surrogate_key(['id_number_hash', 'version_valid_from']) }} as worker_sk,
    id_number_hash,
    cast(version_number as integer) as version_number,
    version_valid_from as valid_from,
    coalesce(next_valid_from, cast('9999-12-31' as date)) as valid_to,
    next_valid_from is null as is_current,
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
    source_row,
    {{ build_started_at() }} as built_at
from latest_in_version
where ends_version
