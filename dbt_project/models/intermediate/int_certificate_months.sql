{#-
    The state of every certificate in every month from its first record on: the latest record whose reporting
    month is on or before that month (a month's file lists only new or changed records).
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
    {{ generate_surrogate_key(['records.certificate_no', 'months.month_start']) }} as certificate_month_id,
    months.month_start,
    months.month_end,
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
    records.period_month as record_month,
    records.registration_status <> 'cancelled'
    and records.certified_on <= months.month_end as is_held,
    records.source_file,
    records.source_row
from records
inner join {{ ref('int_months') }} as months
    on
        records.period_month <= months.month_start
        and (records.next_period_month is null or records.next_period_month > months.month_start)
left join levels
    on records.certificate_level = levels.certificate_level
