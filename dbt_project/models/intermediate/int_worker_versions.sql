{{ config(**version_history_config('id_number_hash')) }}

{#-
    Each person's state as versions: a person's certificates change only in a month where one of their
    certificates' versions starts or ends, so the person's state is constant from one such month to the next. In each version the
    primary certificate is the highest-level certificate still held (not cancelled), else the highest-level
    one; its record gives status, employer, station and region.

    Incremental (DuckDB): a change in the run's months changes a person's versions only through a certificate
    version of theirs that starts or ends in those months, before the change (then a version of the person
    started there: the pre-hook deletes the person) or after it (a certificate version starting or ending there
    names the person). The run rebuilds those persons from all their certificate versions.
-#}
with

certificates as (

    select * from {{ ref('int_certificate_versions') }}
    {%- if is_incremental() %}
    where id_number_hash in (
        {{ keys_to_rebuild(
            ref('int_certificate_versions'), 'id_number_hash',
            incremental_month_window('inputs.valid_from') ~ ' or ' ~ incremental_month_window('inputs.valid_to')
        ) }}
    )
    {%- endif %}

),

change_months as (

    -- A version starts where one of the person's certificate versions starts or ends (a certificate's next
    -- record may name another person, after an identity correction).
    select
        id_number_hash,
        valid_from
    from certificates
    union
    select
        id_number_hash,
        valid_to as valid_from
    from certificates
    where valid_to is not null

),

person_versions as (

    select
        id_number_hash,
        valid_from,
        lead(valid_from) over (partition by id_number_hash order by valid_from) as valid_to
    from change_months

),

ranked as (

    select
        person_versions.valid_from,
        person_versions.valid_to,
        certificates.id_number_hash,
        certificates.worker_name_masked,
        certificates.birth_year_band,
        certificates.gender,
        certificates.certificate_no,
        certificates.certificate_level,
        certificates.certified_on,
        certificates.registered_on,
        certificates.registration_status,
        certificates.employer_uscc,
        certificates.employer_name,
        certificates.station_code,
        certificates.region_code,
        certificates.county_code,
        certificates.source_file,
        certificates.source_row,
        row_number() over (
            partition by person_versions.id_number_hash, person_versions.valid_from
            order by
                case when certificates.is_held then 0 else 1 end,
                certificates.level_rank desc,
                certificates.certified_on desc,
                certificates.certificate_no desc
        ) as certificate_rank,
        sum(case when certificates.is_held then 1 else 0 end) over (
            partition by person_versions.id_number_hash, person_versions.valid_from
        ) as certificates_held
    from person_versions
    inner join certificates
        on
            person_versions.id_number_hash = certificates.id_number_hash
            and {{ version_in_force('certificates', 'person_versions.valid_from') }}

)

select
    {{ generate_surrogate_key(['id_number_hash', 'valid_from']) }} as worker_version_id,
    valid_from,
    valid_to,
    id_number_hash,
    worker_name_masked,
    birth_year_band,
    gender,
    certificate_no as primary_certificate_no,
    certificate_level as highest_level,
    certified_on,
    registered_on,
    registration_status,
    employer_uscc,
    employer_name,
    station_code,
    region_code,
    county_code,
    certificates_held,
    certificates_held > 0 as is_certified,
    source_file,
    source_row,
    {{ build_started_at() }} as built_at
from ranked
where certificate_rank = 1
