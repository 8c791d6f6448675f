{#-
    The registry's answer to each reported figure at its region (containment by code prefix), year and as-of
    date (int_report_fact_as_of), computed exactly as documented per metric in the seed
    metric_registry_definitions. Null with a reason when the registries cannot answer.

    Registry rows are aggregated per period and region prefix first (macro aggregate_by_region_prefix), then
    joined to the facts on equal prefixes: joining facts to millions of person-months by "code starts with"
    took minutes at a million workers. Because the as-of date is always a month's last day, "on or before the
    as-of date" is "in or before as_of_month" for every dated registry row. Each month has one version in force
    per person or certificate and one row per station or agency, so counts add up over a prefix.
-#}

{#- Metric → the per-prefix aggregate below that answers it with a column of the metric's name. -#}
{%- set figure_sources = {
    'certified_social_workers': 'workers',
    'certified_assistant': 'workers',
    'certified_intermediate': 'workers',
    'certified_senior': 'workers',
    'exam_passed': 'exams',
    'township_stations': 'stations',
    'village_stations': 'stations',
    'station_social_workers': 'stations',
    'social_work_agencies': 'agencies',
    'agency_staff': 'agencies',
    'government_purchase_funding': 'funding',
    'lottery_funding': 'funding',
    'charity_funding': 'funding',
    'service_projects': 'funding',
    'training_sessions': 'training',
    'training_participants': 'training',
    'training_funding': 'training',
} -%}

with

facts as (

    select * from {{ ref('int_report_fact_as_of') }}

),

candidates as (

    select * from facts
    where as_of_date is not null

),

calendar as (

    select
        min(month_start) as first_month,
        max(month_end) as last_month_end
    from {{ ref('int_months') }}

),

as_of_months as (

    select distinct as_of_month as month_start from candidates

),

worker_months as (

    select
        months.month_start,
        versions.region_code,
        versions.highest_level
    from {{ ref('int_worker_versions') }} as versions
    inner join {{ ref('int_months') }} as months
        on {{ version_in_force('versions', 'months.month_start') }}
    where
        months.month_start in (select as_of_months.month_start from as_of_months)
        and versions.is_certified
        and versions.certified_on <= months.month_end

),

certificate_months as (

    select
        months.month_start,
        extract(year from versions.certified_on) as certified_year,
        versions.region_code
    from {{ ref('int_certificate_versions') }} as versions
    inner join {{ ref('int_months') }} as months
        on {{ version_in_force('versions', 'months.month_start') }}
    where
        months.month_start in (select as_of_months.month_start from as_of_months)
        and versions.certified_on <= months.month_end

),

contracts as (

    select
        {{ month_start('signed_on') }} as signed_month,
        purchaser_region_code,
        funding_source,
        amount_yuan
    from {{ ref('stg_funding') }}

),

session_attendance as (

    select
        session_code,
        count(*) as participants
    from {{ ref('stg_training_attendance') }}
    group by session_code

),

sessions as (

    select
        {{ month_start('sessions.start_on') }} as start_month,
        sessions.organizer_region_code,
        sessions.budget_yuan,
        session_attendance.participants
    from {{ ref('stg_training_sessions') }} as sessions
    left join session_attendance
        on sessions.session_code = session_attendance.session_code

),

region_rows_by_prefix as (

    {{ aggregate_by_region_prefix(
        ref('int_region_codes_seen'), 'region_code',
        {'registry_rows': 'sum(registry_row_count)'},
        where='registry_row_count > 0',
    ) }}

),

workers_by_prefix as (

    {{ aggregate_by_region_prefix(
        'worker_months', 'region_code',
        {
            'certified_social_workers': 'count(*)',
            'certified_assistant': "count(case when highest_level = 'assistant' then 1 end)",
            'certified_intermediate': "count(case when highest_level = 'intermediate' then 1 end)",
            'certified_senior': "count(case when highest_level = 'senior' then 1 end)",
        },
        group_by=['month_start'],
    ) }}

),

exams_by_prefix as (

    {{ aggregate_by_region_prefix(
        'certificate_months', 'region_code', {'exam_passed': 'count(*)'}, group_by=['month_start', 'certified_year'],
    ) }}

),

stations_by_prefix as (

    {{ aggregate_by_region_prefix(
        ref('int_station_months'), 'region_code',
        {
            'township_stations': "sum(case when station_level = 'township' then 1 else 0 end)",
            'village_stations': "sum(case when station_level = 'village' then 1 else 0 end)",
            'station_social_workers': 'sum(coalesce(resident_workers, 0))',
        },
        group_by=['month_start'],
        where="operating_status = 'operating' and opened_on <= " ~ month_end('month_start'),
    ) }}

),

townships_by_prefix as (

    {{ aggregate_by_region_prefix(
        ref('stg_regions'), 'division_code', {'townships_listed': 'count(*)'}, where="division_level = 'township'",
    ) }}

),

agencies_by_prefix as (

    {{ aggregate_by_region_prefix(
        ref('int_agency_months'), 'region_code',
        {'social_work_agencies': 'count(*)', 'agency_staff': 'sum(coalesce(full_time_staff, 0))'},
        group_by=['month_start'],
        where='is_active',
    ) }}

),

funding_by_prefix as (

    {{ aggregate_by_region_prefix(
        'contracts', 'purchaser_region_code',
        {
            'government_purchase_funding': "sum(case when funding_source = 'fiscal' then amount_yuan else 0 end)",
            'lottery_funding': "sum(case when funding_source = 'lottery' then amount_yuan else 0 end)",
            'charity_funding': "sum(case when funding_source = 'charity' then amount_yuan else 0 end)",
            'service_projects': 'count(*)',
        },
        group_by=['signed_month'],
    ) }}

),

training_by_prefix as (

    {{ aggregate_by_region_prefix(
        'sessions', 'organizer_region_code',
        {
            'training_sessions': 'count(*)',
            'training_participants': 'sum(coalesce(participants, 0))',
            'training_funding': 'sum(coalesce(budget_yuan, 0))',
        },
        group_by=['start_month'],
    ) }}

),

funding as (

    -- Funding and training are flows: the fact's year to date (months of its year up to the as-of month).
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
            {%- for metric, answered_by in figure_sources.items() %}
                when '{{ metric }}' then coalesce({{ answered_by }}.{{ metric }}, 0)
            {%- endfor %}
            when 'station_coverage_rate'
                then {{ percent_rate('coalesce(stations.township_stations, 0)', 'townships.townships_listed') }}
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
        facts.report_fact_id,
        facts.metric_code,
        facts.as_of_date,
        figures.registry_figure,
        case
            when facts.is_target then 'target'
            when facts.as_of_date is null then 'missing_region_or_year'
            when definitions.metric_code is null then 'metric_not_answerable'
            when figures.registry_rows is null then 'region_without_registry_rows'
            when
                facts.report_year < extract(year from calendar.first_month)
                or facts.report_year > extract(year from calendar.last_month_end)
                then 'year_outside_registry_months'
            when facts.as_of_date < calendar.first_month then 'as_of_before_registry_months'
            when facts.metric_code = 'station_coverage_rate' and figures.townships_listed = 0
                then 'no_townships_listed'
            when figures.registry_figure is null then 'metric_not_answerable'
        end as not_comparable_reason
    from facts
    cross join calendar
    left join {{ ref('metric_registry_definitions') }} as definitions
        on facts.metric_code = definitions.metric_code
    left join figures
        on facts.report_fact_id = figures.report_fact_id

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
