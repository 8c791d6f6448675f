{{ config(**rebuilt_by_key_config('certificate_no', 'int_certificate_versions')) }}

{#-
    One row per certificate event: every registration record of a certificate (a month's file lists only new or
    changed records), classified against the certificate's previous record.

    Incremental (DuckDB): a certificate's events depend on its own records and on the dimension versions of the
    persons they name, so a run rebuilds, from all their records, the certificates int_certificate_versions
    rebuilt since this model's latest build, those naming a person dim_worker rebuilt since then, and any
    certificate it lacks; the pre-hook deletes the certificates left with no record.
-#}
with

records as (

    select
        workers.*,
        lag(workers.period_month) over (
            partition by workers.certificate_no order by workers.period_month
        ) as previous_period_month,
        lag(workers.registration_status) over (
            partition by workers.certificate_no order by workers.period_month
        ) as previous_registration_status,
        lag(workers.registered_on) over (
            partition by workers.certificate_no order by workers.period_month
        ) as previous_registered_on,
        lag(workers.certificate_level) over (
            partition by workers.certificate_no order by workers.period_month
        ) as previous_certificate_level,
        lag({{ generate_surrogate_key(['workers.employer_uscc', 'workers.employer_name']) }}) over (
            partition by workers.certificate_no order by workers.period_month
        ) as previous_employer_hash,
        lag({{ generate_surrogate_key(['workers.station_code', 'workers.region_code']) }}) over (
            partition by workers.certificate_no order by workers.period_month
        ) as previous_posting_hash
    from {{ ref('stg_workers') }} as workers
    {%- if is_incremental() %}
    where workers.certificate_no in (
        {{ keys_to_rebuild(
            ref('int_certificate_versions'), 'certificate_no',
            built_after_own_rows('inputs.built_at') ~ ' or inputs.id_number_hash in (select rebuilt.id_number_hash from '
            ~ ref('dim_worker') ~ ' as rebuilt where ' ~ built_after_own_rows('rebuilt.built_at') ~ ')'
        ) }}
    )
    {%- endif %}

),

classified as (

    select
        records.*,
        case
            when records.previous_period_month is null then 'first_registered'
            when records.registration_status <> records.previous_registration_status
                then {{ dbt.concat(["'status_'", "records.registration_status"]) }}
            when records.registered_on <> records.previous_registered_on then 're_registered'
            when records.certificate_level <> records.previous_certificate_level then 'level_corrected'
            when
                {{ generate_surrogate_key(['records.employer_uscc', 'records.employer_name']) }}
                <> records.previous_employer_hash then 'employer_changed'
            when
                {{ generate_surrogate_key(['records.station_code', 'records.region_code']) }}
                <> records.previous_posting_hash then 'posting_changed'
            else 'restated'
        end as event_type
    from records

)

select
    classified.worker_record_id as certification_event_id,
    classified.certificate_no,
    classified.period_month as event_month,
    {{ date_key('classified.period_month') }} as event_month_date_key,
    classified.event_type,
    classified.previous_period_month is null as is_first_record,
    workers.worker_sk,
    classified.id_number_hash,
    classified.certificate_level,
    classified.registration_status,
    classified.previous_registration_status,
    classified.certified_on,
    {{ date_key('classified.certified_on') }} as certified_date_key,
    classified.registered_on,
    {{ add_to_date('day', -1, add_to_date('year', 3, 'classified.registered_on')) }}
        as registration_period_end_on,
    classified.employer_uscc,
    case
        when classified.employer_uscc is not null then {{ generate_surrogate_key(['classified.employer_uscc']) }}
    end as employer_agency_sk,
    classified.station_code,
    case
        when classified.station_code is not null then {{ generate_surrogate_key(['classified.station_code']) }}
    end as station_sk,
    classified.region_code,
    {{ generate_surrogate_key(['classified.region_code']) }} as region_sk,
    classified.county_code,
    classified.source_file,
    classified.source_row,
    {{ build_started_at() }} as built_at
from classified
left join {{ ref('dim_worker') }} as workers
    on
        classified.id_number_hash = workers.id_number_hash
        and classified.period_month >= workers.valid_from
        and classified.period_month < workers.valid_to
