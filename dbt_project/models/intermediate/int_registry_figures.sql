{#-
    The registry's answer to each reported figure: for fact region R (adcode, containment by code prefix),
    year Y and as-of date A = min(Y-12-31, last day of the month before the report's publication date when
    known, last reporting month's end), computed exactly as documented per metric in the seed
    metric_registry_definitions. Null with a reason when the registries cannot answer.
-#}
with

facts as (

    select
        facts.report_fact_id,
        facts.metric_code,
        facts.adcode,
        facts.report_year,
        facts.is_target,
        documents.publication_date
    from {{ ref('stg_report_facts') }} as facts
    left join {{ ref('stg_report_documents') }} as documents
        on facts.doc = documents.doc

),

calendar as (

    select
        min(month_start) as first_month,
        max(month_end) as last_month_end
    from {{ ref('int_months') }}

),

dated as (

    select
        facts.*,
        calendar.first_month,
        calendar.last_month_end,
        least(
            {{ make_date('facts.report_year', 12, 31) }},
            coalesce(
                {{ add_to_date('day', -1, month_start('facts.publication_date')) }},
                cast('9999-12-31' as date)
            ),
            calendar.last_month_end
        ) as as_of_date
    from facts
    cross join calendar

),

candidates as (

    select
        dated.*,
        {{ month_start('dated.as_of_date') }} as as_of_month
    from dated
    where dated.adcode is not null and dated.report_year is not null

),

region_rows as (

    select
        candidates.report_fact_id,
        sum(seen.registry_row_count) as registry_rows
    from candidates
    inner join {{ ref('int_region_codes_seen') }} as seen
        on seen.registry_row_count > 0 and {{ region_within('seen.region_code', 'candidates.adcode') }}
    group by candidates.report_fact_id

),

workers as (

    select
        candidates.report_fact_id,
        count(distinct worker_months.id_number_hash) as certified_social_workers,
        count(distinct case when worker_months.highest_level = 'assistant' then worker_months.id_number_hash end)
            as certified_assistant,
        count(
            distinct case when worker_months.highest_level = 'intermediate' then worker_months.id_number_hash end
        ) as certified_intermediate,
        count(distinct case when worker_months.highest_level = 'senior' then worker_months.id_number_hash end)
            as certified_senior
    from candidates
    inner join {{ ref('int_worker_months') }} as worker_months
        on
            candidates.as_of_month = worker_months.month_start
            and worker_months.is_certified
            and candidates.as_of_date >= worker_months.certified_on
            and {{ region_within('worker_months.region_code', 'candidates.adcode') }}
    where
        candidates.metric_code in (
            'certified_social_workers', 'certified_assistant', 'certified_intermediate', 'certified_senior'
        )
    group by candidates.report_fact_id

),

exams as (

    select
        candidates.report_fact_id,
        count(distinct certificate_months.certificate_no) as exam_passed
    from candidates
    inner join {{ ref('int_certificate_months') }} as certificate_months
        on
            candidates.as_of_month = certificate_months.month_start
            and extract(year from certificate_months.certified_on) = candidates.report_year
            and candidates.as_of_date >= certificate_months.certified_on
            and {{ region_within('certificate_months.region_code', 'candidates.adcode') }}
    where candidates.metric_code = 'exam_passed'
    group by candidates.report_fact_id

),

stations as (

    select
        candidates.report_fact_id,
        sum(case when station_months.station_level = 'township' then 1 else 0 end) as township_stations,
        sum(case when station_months.station_level = 'village' then 1 else 0 end) as village_stations,
        sum(coalesce(station_months.resident_workers, 0)) as station_social_workers
    from candidates
    inner join {{ ref('int_station_months') }} as station_months
        on
            candidates.as_of_month = station_months.month_start
            and station_months.operating_status = 'operating'
            and candidates.as_of_date >= station_months.opened_on
            and {{ region_within('station_months.region_code', 'candidates.adcode') }}
    where
        candidates.metric_code in (
            'township_stations', 'village_stations', 'station_social_workers', 'station_coverage_rate'
        )
    group by candidates.report_fact_id

),

townships as (

    select
        candidates.report_fact_id,
        count(*) as townships_listed
    from candidates
    inner join {{ ref('stg_regions') }} as divisions
        on
            divisions.division_level = 'township'
            and {{ region_within('divisions.division_code', 'candidates.adcode') }}
    where candidates.metric_code = 'station_coverage_rate'
    group by candidates.report_fact_id

),

agencies as (

    select
        candidates.report_fact_id,
        count(*) as social_work_agencies,
        sum(coalesce(agency_months.full_time_staff, 0)) as agency_staff
    from candidates
    inner join {{ ref('int_agency_months') }} as agency_months
        on
            candidates.as_of_month = agency_months.month_start
            and agency_months.is_active
            and {{ region_within('agency_months.region_code', 'candidates.adcode') }}
    where candidates.metric_code in ('social_work_agencies', 'agency_staff')
    group by candidates.report_fact_id

),

funding as (

    select
        candidates.report_fact_id,
        sum(case when contracts.funding_source = 'fiscal' then contracts.amount_yuan else 0 end)
            as government_purchase_funding,
        sum(case when contracts.funding_source = 'lottery' then contracts.amount_yuan else 0 end)
            as lottery_funding,
        sum(case when contracts.funding_source = 'charity' then contracts.amount_yuan else 0 end)
            as charity_funding,
        count(*) as service_projects
    from candidates
    inner join {{ ref('stg_funding') }} as contracts
        on
            extract(year from contracts.signed_on) = candidates.report_year
            and candidates.as_of_date >= contracts.signed_on
            and {{ region_within('contracts.purchaser_region_code', 'candidates.adcode') }}
    where
        candidates.metric_code in (
            'government_purchase_funding', 'lottery_funding', 'charity_funding', 'service_projects'
        )
    group by candidates.report_fact_id

),

session_attendance as (

    select
        session_code,
        count(*) as participants
    from {{ ref('stg_training_attendance') }}
    group by session_code

),

training as (

    select
        candidates.report_fact_id,
        count(*) as training_sessions,
        sum(coalesce(session_attendance.participants, 0)) as training_participants,
        sum(coalesce(sessions.budget_yuan, 0)) as training_funding
    from candidates
    inner join {{ ref('stg_training_sessions') }} as sessions
        on
            extract(year from sessions.start_on) = candidates.report_year
            and candidates.as_of_date >= sessions.start_on
            and {{ region_within('sessions.organizer_region_code', 'candidates.adcode') }}
    left join session_attendance
        on sessions.session_code = session_attendance.session_code
    where candidates.metric_code in ('training_sessions', 'training_participants', 'training_funding')
    group by candidates.report_fact_id

),

figures as (

    select
        candidates.report_fact_id,
        case candidates.metric_code
            when 'certified_social_workers' then coalesce(workers.certified_social_workers, 0)
            when 'certified_assistant' then coalesce(workers.certified_assistant, 0)
            when 'certified_intermediate' then coalesce(workers.certified_intermediate, 0)
            when 'certified_senior' then coalesce(workers.certified_senior, 0)
            when 'exam_passed' then coalesce(exams.exam_passed, 0)
            when 'township_stations' then coalesce(stations.township_stations, 0)
            when 'village_stations' then coalesce(stations.village_stations, 0)
            when 'station_social_workers' then coalesce(stations.station_social_workers, 0)
            when 'station_coverage_rate'
                then {{ percent_rate('coalesce(stations.township_stations, 0)', 'townships.townships_listed') }}
            when 'social_work_agencies' then coalesce(agencies.social_work_agencies, 0)
            when 'agency_staff' then coalesce(agencies.agency_staff, 0)
            when 'government_purchase_funding' then coalesce(funding.government_purchase_funding, 0)
            when 'lottery_funding' then coalesce(funding.lottery_funding, 0)
            when 'charity_funding' then coalesce(funding.charity_funding, 0)
            when 'service_projects' then coalesce(funding.service_projects, 0)
            when 'training_sessions' then coalesce(training.training_sessions, 0)
            when 'training_participants' then coalesce(training.training_participants, 0)
            when 'training_funding' then coalesce(training.training_funding, 0)
        end as registry_figure,
        coalesce(townships.townships_listed, 0) as townships_listed
    from candidates
    left join workers on candidates.report_fact_id = workers.report_fact_id
    left join exams on candidates.report_fact_id = exams.report_fact_id
    left join stations on candidates.report_fact_id = stations.report_fact_id
    left join townships on candidates.report_fact_id = townships.report_fact_id
    left join agencies on candidates.report_fact_id = agencies.report_fact_id
    left join funding on candidates.report_fact_id = funding.report_fact_id
    left join training on candidates.report_fact_id = training.report_fact_id

),

reasoned as (

    select
        dated.report_fact_id,
        dated.metric_code,
        case when dated.adcode is not null and dated.report_year is not null then dated.as_of_date end
            as as_of_date,
        figures.registry_figure,
        case
            when dated.is_target then 'target'
            when dated.adcode is null or dated.report_year is null then 'missing_region_or_year'
            when definitions.metric_code is null then 'metric_not_answerable'
            when region_rows.registry_rows is null then 'region_without_registry_rows'
            when
                dated.report_year < extract(year from dated.first_month)
                or dated.report_year > extract(year from dated.last_month_end)
                then 'year_outside_registry_months'
            when dated.as_of_date < dated.first_month then 'as_of_before_registry_months'
            when dated.metric_code = 'station_coverage_rate' and figures.townships_listed = 0
                then 'no_townships_listed'
            when figures.registry_figure is null then 'metric_not_answerable'
        end as not_comparable_reason
    from dated
    left join {{ ref('metric_registry_definitions') }} as definitions
        on dated.metric_code = definitions.metric_code
    left join region_rows
        on dated.report_fact_id = region_rows.report_fact_id
    left join figures
        on dated.report_fact_id = figures.report_fact_id

)

select
    report_fact_id,
    metric_code,
    as_of_date,
    case
        when not_comparable_reason is null then cast(registry_figure as {{ dbt.type_float() }})
    end as registry_value,
    not_comparable_reason
from reasoned
