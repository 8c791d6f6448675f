{#-
    One row per person per month: the person's primary certificate that month is the highest-level certificate
    still held (not cancelled), else the highest-level one; its record gives status, employer, station and region.
-#}
with

ranked as (

    select
        certificate_months.*,
        row_number() over (
            partition by certificate_months.id_number_hash, certificate_months.month_start
            order by
                case when certificate_months.is_held then 0 else 1 end,
                certificate_months.level_rank desc,
                certificate_months.certified_on desc,
                certificate_months.certificate_no desc
        ) as certificate_rank,
        sum(case when certificate_months.is_held then 1 else 0 end) over (
            partition by certificate_months.id_number_hash, certificate_months.month_start
        ) as certificates_held
    from {{ ref('int_certificate_months') }} as certificate_months

)

select
    {{ generate_surrogate_key(['id_number_hash', 'month_start']) }} as worker_month_id,
    month_start,
    month_end,
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
    source_row
from ranked
where certificate_rank = 1
