{{ config(**version_history_config('certificate_no')) }}

{#-
    Every record of a certificate as a version in force from its reporting month until the certificate's next
    record (a month's file lists only new or changed records). The certificate's state in any month is the
    version in force that month (macro version_in_force).

    Incremental (DuckDB): a run rebuilds, from all their records, the certificates with a record in the run's
    months, and those the pre-hook deleted because they had a version starting in them (a superseded file may
    have taken that record away, or moved it to another person). A record changes only the versions of its own
    certificate: the one it starts and the one before it, which it ends.
-#}
with

records as (

    select
        workers.*,
        lead(workers.period_month) over (
            partition by workers.certificate_no order by workers.period_month
        ) as next_period_month
    from {{ ref('stg_workers') }} as workers
    {%- if is_incremental() %}
    where workers.certificate_no in (
        {{ keys_to_rebuild(ref('stg_workers'), 'certificate_no', incremental_month_window('inputs.period_month')) }}
    )
    {%- endif %}

),

levels as (

    select * from {{ ref('certification_levels') }}

)

select
    {{ generate_surrogate_key(['records.certificate_no', 'records.period_month']) }} as certificate_version_id,
    records.period_month as valid_from,
    records.next_period_month as valid_to,
    records.certificate_no,
    records.id_number_hash,
    records.worker_name_masked,
    records.birth_year_band,
    records.gender,
    records.certificate_level,
    levels.level_rank,
    records.certified_on,
    records.registered_on,
    records.registration_status,
    records.employer_uscc,
    records.employer_name,
    records.station_code,
    records.region_code,
    records.county_code,
    -- The workers contract bounds certified_on by the end of the file's month, so a version is held in every
    -- month it is in force unless cancelled.
    records.registration_status <> 'cancelled' as is_held,
    records.source_file,
    records.source_row,
    {{ build_started_at() }} as built_at
from records
left join levels
    on records.certificate_level = levels.certificate_level
