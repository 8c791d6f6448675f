{#-
    Workers due for re-registration in the calendar quarter after the one containing the as-of date: current
    registration periods, of certificates not cancelled or expired, ending within that quarter.
-#}
with

as_of as (

    select
        {{ as_of_date() }} as as_of_date

),

window_bounds as (

    select
        as_of_date,
        {{ add_to_date('month', 3, 'cast(' ~ dbt.date_trunc('quarter', 'as_of_date') ~ ' as date)') }}
            as due_quarter_start
    from as_of

),

due_window as (

    select
        as_of_date,
        due_quarter_start,
        {{ add_to_date('day', -1, add_to_date('month', 3, 'due_quarter_start')) }} as due_quarter_end
    from window_bounds

)

select
    periods.continuing_education_id as reregistration_due_id,
    periods.worker_name_masked,
    periods.id_number_hash,
    periods.certificate_no,
    periods.certificate_level,
    periods.registration_status,
    periods.region_code,
    periods.region_sk,
    regions.region_name,
    regions.county_name,
    periods.employer_uscc,
    periods.employer_name,
    periods.registered_on,
    periods.period_end_on,
    periods.hours_credited,
    periods.hours_required,
    periods.shortfall_hours,
    periods.is_compliant,
    due_window.due_quarter_start,
    due_window.due_quarter_end,
    due_window.as_of_date
from {{ ref('fct_continuing_education') }} as periods
cross join due_window
left join {{ ref('dim_region') }} as regions
    on periods.region_sk = regions.region_sk
where
    periods.is_current_period
    and periods.registration_status in ('active', 'suspended')
    and periods.period_end_on >= due_window.due_quarter_start
    and periods.period_end_on <= due_window.due_quarter_end
