{#-
    Every record of a certificate as a version in force from its reporting month until the certificate's next
    record (a month's file lists only new or changed records). The certificate's state in any month is the
    version in force that month (macro version_in_force).
-#}
with

records as (

    select
        workers.*,
        lead(workers.period_month) over (
            partition by workers.certificate_no order by workers.period_month
        ) as next_period_month
    from {{ ref('stg_workers') }} as workers

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
    records.source_row
from records
left join levels
    on records.certificate_level = levels.certificate_level
