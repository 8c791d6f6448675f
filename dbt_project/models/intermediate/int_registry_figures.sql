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
    from {{ ref('int_reviewed_report_facts') }} as facts
    left join {{ ref('stg_report_documents') }} as documents
        on facts.doc = documents.doc
    where facts.review_status <> 'rejected'

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
        {{ month_start('dated.as_of_date') }} as as_of_month,
        {{ region_prefix_length('dated.adcode') }} as region_prefix_length,
        substr(dated.adcode, 1, {{ region_prefix_length('dated.adcode') }}) as region_prefix
    from dated
    where dated.adcode is not null and dated.report_year is not null

),

{#
    Registry rows are aggregated per period and region prefix first (every code counted under its 2-, 4- and
    6-digit prefixes), then joined to the facts on equal prefixes: joining facts to millions of person-months
    by "code starts with" took minutes at a million workers. Because as_of_date is always a month's last day,
    "on or before the as-of date" is "in or before as_of_month" for every dated registry row. Each month has one
    version in force per person or certificate and one row per station or agency, so counts add up over a prefix.
#}
prefix_lengths as (

    select 2 as prefix_length
    union all
    select 4 as prefix_length
    union all
    select 6 as prefix_length

),

region_rows_by_prefix as (

    select
        prefix_lengths.prefix_length,
        substr(seen.region_code, 1, prefix_lengths.prefix_length) as region_prefix,
        sum(seen.registry_row_count) as registry_rows
    from {{ ref('int_region_codes_seen') }} as seen
    cross join prefix_lengths
    where seen.registry_row_count > 0
    group by prefix_lengths.prefix_length, substr(seen.region_code, 1, prefix_lengths.prefix_length)

),

workers_by_prefix as (

    select
        months.month_start,
        prefix_lengths.prefix_length,
        substr(versions.region_code, 1, prefix_lengths.prefix_length) as region_prefix,
        count(*) as certified_social_workers,
        count(case when versions.highest_level = 'assistant' then 1 end) as certified_assistant,
        count(case when versions.highest_level = 'intermediate' then 1 end) as certified_intermediate,
        count(case when versions.highest_level = 'senior' then 1 end) as certified_senior
    from {{ ref('int_worker_versions') }} as versions
    inner join {{ ref('int_months') }} as months
        on {{ version_in_force('versions', 'months.month_start') }}
    cross join prefix_lengths
    where
        months.month_start in (select candidates.as_of_month from candidates)
        and versions.is_certified
        and versions.certified_on <= months.month_end
    group by
        months.month_start,
        prefix_lengths.prefix_length,
        substr(versions.region_code, 1, prefix_lengths.prefix_length)

),

exams_by_prefix as (

    select
        months.month_start,
        extract(year from versions.certified_on) as certified_year,
        prefix_lengths.prefix_length,
        substr(versions.region_code, 1, prefix_lengths.prefix_length) as region_prefix,
        count(*) as exam_passed
    from {{ ref('int_certificate_versions') }} as versions
    inner join {{ ref('int_months') }} as months
        on {{ version_in_force('versions', 'months.month_start') }}
    cross join prefix_lengths
    where
        months.month_start in (select candidates.as_of_month from candidates)
        and versions.certified_on <= months.month_end
    group by
        months.month_start,
        extract(year from versions.certified_on),
        prefix_lengths.prefix_length,
        substr(versions.region_code, 1, prefix_lengths.prefix_length)

),

stations_by_prefix as (

    select
        station_months.month_start,
        prefix_lengths.prefix_length,
        substr(station_months.region_code, 1, prefix_lengths.prefix_length) as region_prefix,
        sum(case when station_months.station_level = 'township' then 1 else 0 end) as township_stations,
        sum(case when station_months.station_level = 'village' then 1 else 0 end) as village_stations,
        sum(coalesce(station_months.resident_workers, 0)) as station_social_workers
    from {{ ref('int_station_months') }} as station_months
    cross join prefix_lengths
    where
        station_months.operating_status = 'operating'
        and station_months.opened_on <= {{ month_end('station_months.month_start') }}
    group by
        station_months.month_start,
        prefix_lengths.prefix_length,
        substr(station_months.region_code, 1, prefix_lengths.prefix_length)

),

townships_by_prefix as (

    select
        prefix_lengths.prefix_length,
        substr(divisions.division_code, 1, prefix_lengths.prefix_length) as region_prefix,
        count(*) as townships_listed
    from {{ ref('stg_regions') }} as divisions
    cross join prefix_lengths
    where divisions.division_level = 'township'
    group by prefix_lengths.prefix_length, substr(divisions.division_code, 1, prefix_lengths.prefix_length)

),

agencies_by_prefix as (

    select
        agency_months.month_start,
        prefix_lengths.prefix_length,
        substr(agency_months.region_code, 1, prefix_lengths.prefix_length) as region_prefix,
        count(*) as social_work_agencies,
        sum(coalesce(agency_months.full_time_staff, 0)) as agency_staff
    from {{ ref('int_agency_months') }} as agency_months
    cross join prefix_lengths
    where agency_months.is_active
    group by
        agency_months.month_start,
        prefix_lengths.prefix_length,
        substr(agency_months.region_code, 1, prefix_lengths.prefix_length)

),

funding_by_prefix as (

    select
        {{ month_start('contracts.signed_on') }} as signed_month,
        prefix_lengths.prefix_length,
        substr(contracts.purchaser_region_code, 1, prefix_lengths.prefix_length) as region_prefix,
        sum(case when contracts.funding_source = 'fiscal' then contracts.amount_yuan else 0 end)
            as government_purchase_funding,
        sum(case when contracts.funding_source = 'lottery' then contracts.amount_yuan else 0 end)
            as lottery_funding,
        sum(case when contracts.funding_source = 'charity' then contracts.amount_yuan else 0 end)
            as charity_funding,
        count(*) as service_projects
    from {{ ref('stg_funding') }} as contracts
    cross join prefix_lengths
    group by
        {{ month_start('contracts.signed_on') }},
        prefix_lengths.prefix_length,
        substr(contracts.purchaser_region_code, 1, prefix_lengths.prefix_length)

),

session_attendance as (

    select
        session_code,
        count(*) as participants
    from {{ ref('stg_training_attendance') }}
    group by session_code

),

training_by_prefix as (

    select
        {{ month_start('sessions.start_on') }} as start_month,
        prefix_lengths.prefix_length,
        substr(sessions.organizer_region_code, 1, prefix_lengths.prefix_length) as region_prefix,
        count(*) as training_sessions,
        sum(coalesce(session_attendance.participants, 0)) as training_participants,
        sum(coalesce(sessions.budget_yuan, 0)) as training_funding
    from {{ ref('stg_training_sessions') }} as sessions
    left join session_attendance
        on sessions.session_code = session_attendance.session_code
    cross join prefix_lengths
    group by
        {{ month_start('sessions.start_on') }},
        prefix_lengths.prefix_length,
        substr(sessions.organizer_region_code, 1, prefix_lengths.prefix_length)

),

funding as (

    select
        candidates.report_fact_id,
        sum(by_prefix.government_purchase_funding) as government_purchase_funding,
        sum(by_prefix.lottery_funding) as lottery_funding,
        sum(by_prefix.charity_funding) as charity_funding,
        sum(by_prefix.service_projects) as service_projects
    from candidates
    inner join funding_by_prefix as by_prefix
        on
            {{ same_region_prefix('candidates', 'by_prefix') }}
            and candidates.report_year = extract(year from by_prefix.signed_month)
            and candidates.as_of_month >= by_prefix.signed_month
    where
        candidates.metric_code in (
            'government_purchase_funding', 'lottery_funding', 'charity_funding', 'service_projects'
        )
    group by candidates.report_fact_id

),

training as (

    select
        candidates.report_fact_id,
        sum(by_prefix.training_sessions) as training_sessions,
        sum(by_prefix.training_participants) as training_participants,
        sum(by_prefix.training_funding) as training_funding
    from candidates
    inner join training_by_prefix as by_prefix
        on
            {{ same_region_prefix('candidates', 'by_prefix') }}
            and candidates.report_year = extract(year from by_prefix.start_month)
            and candidates.as_of_month >= by_prefix.start_month
    where candidates.metric_code in ('training_sessions', 'training_participants', 'training_funding')
    group by candidates.report_fact_id

),

figures as (

    select
        candidates.report_fact_id,
        region_rows.registry_rows,
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
    left join region_rows_by_prefix as region_rows
        on {{ same_region_prefix('candidates', 'region_rows') }}
    left join workers_by_prefix as workers
        on
            {{ same_region_prefix('candidates', 'workers') }}
            and candidates.as_of_month = workers.month_start
    left join exams_by_prefix as exams
        on
            {{ same_region_prefix('candidates', 'exams') }}
            and candidates.as_of_month = exams.month_start
            and candidates.report_year = exams.certified_year
    left join stations_by_prefix as stations
        on
            {{ same_region_prefix('candidates', 'stations') }}
            and candidates.as_of_month = stations.month_start
    left join townships_by_prefix as townships
        on {{ same_region_prefix('candidates', 'townships') }}
    left join agencies_by_prefix as agencies
        on
            {{ same_region_prefix('candidates', 'agencies') }}
            and candidates.as_of_month = agencies.month_start
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
            when figures.registry_rows is null then 'region_without_registry_rows'
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
