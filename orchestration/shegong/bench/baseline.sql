-- The benchmark's baseline: the same landing files → the same main mart tables, in one DuckDB script.
-- No orchestration, no quarantine, no validation, minimal typing (a cell that does not parse is NULL).
-- The driver (baseline.py) has transcoded GB18030 CSV to UTF-8 and XLSX to CSV, and substitutes:
--   __FILES_<REGISTRY>__  a list literal of the registry's CSV files
--   __SEEDS__             the dbt project's seeds folder
-- and registers two small tables from the contracts: aliases(registry, alias, column_name) and
-- enums(registry, column_name, spelling, code).

-- 1. Every registry file as text cells: (registry, file, row, column position, value).
create or replace macro norm(v) as lower(regexp_replace(translate(v, '（）：', '():'), '[\s*#:]', '', 'g'));
create or replace macro registry_cells(reg, files) as table
    unpivot (
        select reg as registry, row_number() over () as row_id, *
        from read_csv(
            files, header = false, all_varchar = true, null_padding = true, union_by_name = true,
            filename = true, delim = ',', quote = '"', escape = '"', strict_mode = false
        )
    ) on columns(* exclude (registry, row_id, filename)) into name col value v;

create or replace temp table cells as
select * from registry_cells('workers', __FILES_WORKERS__)
union all select * from registry_cells('stations', __FILES_STATIONS__)
union all select * from registry_cells('agencies', __FILES_AGENCIES__)
union all select * from registry_cells('funding', __FILES_FUNDING__)
union all select * from registry_cells('training_sessions', __FILES_TRAINING_SESSIONS__)
union all select * from registry_cells('training_attendance', __FILES_TRAINING_ATTENDANCE__)
union all select * from registry_cells('regions', __FILES_REGIONS__);

-- 2. The header row of each file (the row naming most contract columns) and its column → contract mapping.
create or replace temp table header_cells as
select c.registry, c.filename, c.row_id, c.col, a.column_name
from cells as c
inner join aliases as a on a.registry = c.registry and a.alias = c.v;

create or replace temp table header_rows as
select registry, filename, row_id
from header_cells
group by registry, filename, row_id
qualify row_number() over (partition by registry, filename order by count(*) desc, row_id) = 1;

create or replace temp table header_map as
select h.registry, h.filename, h.col, h.column_name
from header_cells as h
inner join header_rows as r using (registry, filename, row_id)
qualify row_number() over (
    partition by h.registry, h.filename, h.column_name order by cast(substr(h.col, 7) as integer)
) = 1;

create or replace temp table fields as
select c.registry, c.filename, c.row_id, m.column_name, trim(c.v) as v
from cells as c
inner join header_map as m using (registry, filename, col)
anti join header_rows as r using (registry, filename, row_id)
where trim(c.v) <> '';

-- 3. One text row per data row (title and footer lines have too few cells to be rows).
create or replace macro enum_code(reg, col_name, value) as (
    select e.code from enums as e where e.registry = reg and e.column_name = col_name and e.spelling = norm(value)
);
create or replace macro to_date(v) as cast(coalesce(
    try_strptime(v, '%Y-%m-%d'), try_strptime(v, '%Y/%m/%d'), try_strptime(v, '%Y年%m月%d日'),
    try_strptime(v, '%Y%m%d'), try_strptime(v, '%Y-%m-%d %H:%M:%S')
) as date);
create or replace macro to_number(v) as try_cast(replace(replace(v, ',', ''), '元', '') as decimal(18, 2));
create or replace macro period_of(f) as cast(strptime(regexp_extract(f, '_(20\d{2}-\d{2})_', 1) || '-01', '%Y-%m-%d') as date);
create or replace macro region_of(f) as regexp_extract(f, '(\d{6})_20\d{2}-\d{2}_', 1);
create or replace macro pii_hash(kind, v) as sha256(kind || ':' || upper(v));
create or replace macro mask_name(v) as left(v, 1) || repeat('*', greatest(length(v) - 1, 1));
create or replace macro skey(v) as md5(coalesce(cast(v as varchar), '_shegong_null_'));

create or replace temp table rows_text as
select registry, filename, row_id, map(list(column_name), list(v)) as r
from fields
group by all
having count(*) >= 3;

create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;

-- 4. Staging: typed, personal data hashed/masked, one row per key and month (the latest file's row).
create or replace table staging.stg_workers as
with typed as (
    select
        r['certificate_no'] as certificate_no,
        period_of(filename) as period_month,
        pii_hash('id_number', r['id_number']) as id_number_hash,
        mask_name(r['worker_name']) as worker_name_masked,
        cast(cast(substr(r['id_number'], 7, 4) as integer) // 5 * 5 as varchar) || '-'
            || cast(cast(substr(r['id_number'], 7, 4) as integer) // 5 * 5 + 4 as varchar) as birth_year_band,
        case when try_cast(substr(r['id_number'], 17, 1) as integer) % 2 = 1 then 'male' else 'female' end as gender,
        enum_code('workers', 'certificate_level', r['certificate_level']) as certificate_level,
        to_date(r['certified_on']) as certified_on,
        to_date(r['registered_on']) as registered_on,
        enum_code('workers', 'registration_status', r['registration_status']) as registration_status,
        r['employer_uscc'] as employer_uscc,
        r['employer_name'] as employer_name,
        r['station_code'] as station_code,
        r['region_code'] as region_code,
        region_of(filename) as reporting_region_code,
        filename as source_file,
        row_id as source_row
    from rows_text where registry = 'workers'
)
select
    skey(certificate_no || '-' || period_month) as worker_record_id, *, substr(region_code, 1, 6) as county_code
from typed
qualify row_number() over (partition by certificate_no, period_month order by source_file desc, source_row desc) = 1;

create or replace table staging.stg_stations as
select
    r['station_code'] as station_code,
    period_of(filename) as period_month,
    r['station_name'] as station_name,
    enum_code('stations', 'station_level', r['station_level']) as station_level,
    r['region_code'] as region_code,
    substr(r['region_code'], 1, 6) as county_code,
    to_date(r['opened_on']) as opened_on,
    enum_code('stations', 'operating_status', r['operating_status']) as operating_status,
    r['operator_uscc'] as operator_uscc,
    try_cast(r['resident_workers'] as bigint) as resident_workers,
    region_of(filename) as reporting_region_code,
    filename as source_file,
    row_id as source_row
from rows_text where registry = 'stations'
qualify row_number() over (partition by station_code, period_month order by source_file desc, source_row desc) = 1;

create or replace table staging.stg_agencies as
select
    r['agency_uscc'] as agency_uscc,
    period_of(filename) as period_month,
    r['agency_name'] as agency_name,
    r['region_code'] as region_code,
    to_date(r['founded_on']) as founded_on,
    enum_code('agencies', 'registration_status', r['registration_status']) as registration_status,
    try_cast(r['full_time_staff'] as bigint) as full_time_staff,
    region_of(filename) as reporting_region_code,
    filename as source_file,
    row_id as source_row
from rows_text where registry = 'agencies'
qualify row_number() over (partition by agency_uscc, period_month order by source_file desc, source_row desc) = 1;

create or replace table staging.stg_funding as
select
    r['contract_no'] as contract_no,
    r['project_name'] as project_name,
    enum_code('funding', 'funding_source', r['funding_source']) as funding_source,
    r['purchaser_region_code'] as purchaser_region_code,
    r['provider_uscc'] as provider_uscc,
    to_number(r['amount_yuan']) as amount_yuan,
    to_date(r['signed_on']) as signed_on,
    to_date(r['service_start_on']) as service_start_on,
    to_date(r['service_end_on']) as service_end_on,
    period_of(filename) as period_month,
    filename as source_file,
    row_id as source_row
from rows_text where registry = 'funding'
qualify row_number() over (partition by contract_no order by period_month desc, source_file desc, source_row desc) = 1;

create or replace table staging.stg_training_sessions as
select
    r['session_code'] as session_code,
    r['session_title'] as session_title,
    enum_code('training_sessions', 'program', r['program']) as program,
    r['organizer_region_code'] as organizer_region_code,
    to_date(r['start_on']) as start_on,
    to_date(r['end_on']) as end_on,
    to_number(r['credit_hours']) as credit_hours,
    period_of(filename) as period_month,
    filename as source_file,
    row_id as source_row
from rows_text where registry = 'training_sessions'
qualify row_number() over (partition by session_code order by period_month desc, source_file desc, source_row desc) = 1;

create or replace table staging.stg_training_attendance as
with typed as (
    select
        r['session_code'] as session_code,
        pii_hash('id_number', r['id_number']) as id_number_hash,
        mask_name(r['attendee_name']) as attendee_name_masked,
        r['certificate_no'] as certificate_no,
        to_number(r['credited_hours']) as credited_hours,
        enum_code('training_attendance', 'completed', r['completed']) = 'true' as is_completed,
        period_of(filename) as period_month,
        filename as source_file,
        row_id as source_row
    from rows_text where registry = 'training_attendance'
)
select skey(session_code || '-' || id_number_hash) as attendance_id, *
from typed
qualify row_number() over (
    partition by session_code, id_number_hash order by period_month desc, source_file desc, source_row desc
) = 1;

create or replace table staging.stg_regions as
select
    r['division_code'] as division_code,
    r['division_name'] as division_name,
    case length(r['division_code']) when 12 then 'village' when 9 then 'township' end as division_level,
    substr(r['division_code'], 1, 6) as county_code
from rows_text where registry = 'regions'
qualify row_number() over (partition by division_code order by filename desc, row_id desc) = 1;

create or replace table staging.certification_levels as
select * from read_csv('__SEEDS__/certification_levels.csv');
create or replace table staging.training_programs as
select * from read_csv('__SEEDS__/training_programs.csv');

-- 5. Intermediate: the month spine, certificate and person states per month, station rosters carried forward.
create or replace table intermediate.int_months as
with bounds as (
    select min(period_month) as first_month, max(period_month) as last_month from (
        select period_month from staging.stg_workers union all select period_month from staging.stg_stations
        union all select period_month from staging.stg_agencies union all select period_month from staging.stg_funding
        union all select period_month from staging.stg_training_sessions
        union all select period_month from staging.stg_training_attendance
    )
)
select
    cast(m as date) as month_start,
    cast(last_day(m) as date) as month_end,
    cast(m as date) = last_month as is_last_reporting_month
from bounds, generate_series(first_month, last_month, interval 1 month) as g(m);

create or replace table intermediate.int_certificate_months as
with records as (
    select *, lead(period_month) over (partition by certificate_no order by period_month) as next_period_month
    from staging.stg_workers
)
select
    months.month_start, months.month_end, records.*, levels.level_rank,
    records.registration_status <> 'cancelled' and records.certified_on <= months.month_end as is_held
from records
inner join intermediate.int_months as months
    on records.period_month <= months.month_start
    and (records.next_period_month is null or records.next_period_month > months.month_start)
left join staging.certification_levels as levels on records.certificate_level = levels.certificate_level;

create or replace table intermediate.int_worker_months as
select
    skey(id_number_hash || '-' || month_start) as worker_month_id,
    month_start, month_end, id_number_hash, worker_name_masked, birth_year_band, gender,
    certificate_no as primary_certificate_no, certificate_level as highest_level, certified_on, registered_on,
    registration_status, employer_uscc, employer_name, station_code, region_code, county_code,
    certificates_held, certificates_held > 0 as is_certified, source_file, source_row
from (
    select *,
        row_number() over (
            partition by id_number_hash, month_start
            order by case when is_held then 0 else 1 end, level_rank desc, certified_on desc, certificate_no desc
        ) as certificate_rank,
        sum(case when is_held then 1 else 0 end) over (partition by id_number_hash, month_start) as certificates_held
    from intermediate.int_certificate_months
)
where certificate_rank = 1;

create or replace table intermediate.int_station_months as
with roster_months as (
    select distinct reporting_region_code, period_month from staging.stg_stations
), region_months as (
    select rm.reporting_region_code, m.month_start, m.month_end, max(rm.period_month) as roster_month
    from intermediate.int_months as m inner join roster_months as rm on rm.period_month <= m.month_start
    group by all
)
select
    rm.month_start, rm.month_end, rm.roster_month, s.*,
    s.opened_on <= rm.month_end and s.operating_status <> 'closed' as is_built,
    s.opened_on <= rm.month_end and s.operating_status = 'operating' as is_operating
from region_months as rm
inner join staging.stg_stations as s
    on rm.reporting_region_code = s.reporting_region_code and rm.roster_month = s.period_month
qualify row_number() over (
    partition by s.station_code, rm.month_start order by rm.roster_month desc, s.reporting_region_code
) = 1;

-- 6. Marts: dimensions, then facts.
create or replace table marts.dim_date as
select
    cast(strftime(d, '%Y%m%d') as integer) as date_key, cast(d as date) as date_day,
    year(d) as calendar_year, quarter(d) as calendar_quarter, month(d) as calendar_month,
    cast(date_trunc('month', d) as date) as month_start, cast(last_day(d) as date) as month_end
from (
    select make_date(min(year(certified_on)), 1, 1) as first_day, make_date(max(year(month_end)), 12, 31) as last_day
    from intermediate.int_certificate_months
), generate_series(first_day, last_day, interval 1 day) as g(d);

create or replace table marts.dim_worker as
with flagged as (
    select *,
        md5(concat_ws('-', coalesce(highest_level, '_'), coalesce(registration_status, '_'),
            coalesce(employer_uscc, '_'), coalesce(employer_name, '_'), coalesce(station_code, '_'),
            coalesce(region_code, '_'))) as attribute_hash
    from intermediate.int_worker_months
), starts as (
    select *,
        case when lag(attribute_hash) over (partition by id_number_hash order by month_start) = attribute_hash
            then 0 else 1 end as starts_version
    from flagged
), numbered as (
    select *,
        sum(starts_version) over (
            partition by id_number_hash order by month_start rows between unbounded preceding and current row
        ) as version_number
    from starts
), versions as (
    select *,
        min(month_start) over (partition by id_number_hash, version_number) as valid_from
    from numbered
    qualify row_number() over (partition by id_number_hash, version_number order by month_start desc) = 1
)
select
    skey(id_number_hash || '-' || valid_from) as worker_sk,
    id_number_hash, cast(version_number as integer) as version_number, valid_from,
    coalesce(lead(valid_from) over (partition by id_number_hash order by valid_from), date '9999-12-31') as valid_to,
    lead(valid_from) over (partition by id_number_hash order by valid_from) is null as is_current,
    worker_name_masked, birth_year_band, gender, highest_level as certificate_level, primary_certificate_no,
    certified_on, registration_status, is_certified, certificates_held, employer_uscc, employer_name,
    case when employer_uscc is not null then skey(employer_uscc) end as employer_agency_sk,
    station_code, case when station_code is not null then skey(station_code) end as station_sk,
    region_code, skey(region_code) as region_sk, county_code, skey(county_code) as county_region_sk,
    source_file, source_row
from versions;

create or replace table marts.dim_station as
with latest as (
    select *, min(period_month) over (partition by station_code) as first_roster_month
    from staging.stg_stations
    qualify row_number() over (partition by station_code order by period_month desc, source_row desc) = 1
)
select
    skey(station_code) as station_sk, station_code, station_name, station_level, region_code,
    skey(region_code) as region_sk, county_code, opened_on, operating_status, operator_uscc,
    resident_workers, first_roster_month, period_month as last_roster_month, true as is_on_roster
from latest
union all
select distinct
    skey(station_code), station_code, '(not on roster) ' || station_code, null, null, null, null, null, null, null,
    null, null, null, false
from staging.stg_workers
where station_code is not null and station_code not in (select station_code from latest);

create or replace table marts.dim_agency as
with latest as (
    select *, min(period_month) over (partition by agency_uscc) as first_roster_month
    from staging.stg_agencies
    qualify row_number() over (partition by agency_uscc order by period_month desc, source_row desc) = 1
), referenced as (
    select employer_uscc as agency_uscc, employer_name as agency_name, period_month as seen_month
    from staging.stg_workers where employer_uscc is not null
    union all select provider_uscc, null, period_month from staging.stg_funding where provider_uscc is not null
    union all select operator_uscc, null, period_month from staging.stg_stations where operator_uscc is not null
)
select
    skey(agency_uscc) as agency_sk, agency_uscc, agency_name, region_code, skey(region_code) as region_sk,
    founded_on, registration_status, full_time_staff, first_roster_month, period_month as last_roster_month,
    true as is_on_roster
from latest
union all
select
    skey(agency_uscc), agency_uscc, coalesce(agency_name, '(not on roster) ' || agency_uscc), null, null, null, null,
    null, null, null, false
from referenced
where agency_uscc not in (select agency_uscc from latest)
qualify row_number() over (
    partition by agency_uscc order by case when agency_name is null then 1 else 0 end, seen_month desc
) = 1;

create or replace table marts.dim_region as
with codes as (
    select division_code as region_code, division_name as region_name, division_level as region_level
    from staging.stg_regions
    union all
    select code, null, case when length(code) = 12 then 'village' when length(code) = 9 then 'township'
        when right(code, 4) = '0000' then 'province' when right(code, 2) = '00' then 'city' else 'county' end
    from (
        select region_code as code from staging.stg_workers union select region_code from staging.stg_stations
        union select region_code from staging.stg_agencies union select purchaser_region_code from staging.stg_funding
        union select organizer_region_code from staging.stg_training_sessions
        union select substr(region_code, 1, 6) from staging.stg_workers
    )
    where code is not null and code not in (select division_code from staging.stg_regions)
)
select
    skey(region_code) as region_sk, region_code, coalesce(region_name, '(unlisted ' || region_code || ')') as region_name,
    region_level, substr(region_code, 1, 6) as county_code,
    case when region_level in ('township', 'village') then substr(region_code, 1, 9) end as township_code
from codes;

create or replace table marts.fct_workforce_monthly as
select
    skey(month_start || '-' || county_code || '-' || highest_level) as workforce_monthly_id,
    month_start, cast(strftime(month_start, '%Y%m%d') as integer) as month_date_key, county_code,
    skey(county_code) as county_region_sk, highest_level as certificate_level,
    count(distinct id_number_hash) as certified_workers,
    count(distinct case when registration_status = 'active' then id_number_hash end) as active_workers,
    count(distinct case when registration_status = 'suspended' then id_number_hash end) as suspended_workers,
    count(distinct case when registration_status = 'expired' then id_number_hash end) as expired_workers,
    count(distinct case when station_code is not null then id_number_hash end) as station_posted_workers,
    count(distinct case when date_trunc('month', certified_on) = month_start then id_number_hash end)
        as newly_certified_workers
from intermediate.int_worker_months
where is_certified
group by month_start, county_code, highest_level;

create or replace table marts.fct_certifications as
with records as (
    select *,
        lag(period_month) over w as previous_period_month,
        lag(registration_status) over w as previous_registration_status,
        lag(registered_on) over w as previous_registered_on,
        lag(certificate_level) over w as previous_certificate_level,
        lag(md5(coalesce(employer_uscc, '_') || '-' || coalesce(employer_name, '_'))) over w as previous_employer_hash,
        lag(md5(coalesce(station_code, '_') || '-' || coalesce(region_code, '_'))) over w as previous_posting_hash
    from staging.stg_workers
    window w as (partition by certificate_no order by period_month)
)
select
    records.worker_record_id as certification_event_id, records.certificate_no, records.period_month as event_month,
    case
        when previous_period_month is null then 'first_registered'
        when records.registration_status <> previous_registration_status then 'status_' || records.registration_status
        when records.registered_on <> previous_registered_on then 're_registered'
        when records.certificate_level <> previous_certificate_level then 'level_corrected'
        when md5(coalesce(records.employer_uscc, '_') || '-' || coalesce(records.employer_name, '_'))
            <> previous_employer_hash then 'employer_changed'
        when md5(coalesce(records.station_code, '_') || '-' || coalesce(records.region_code, '_'))
            <> previous_posting_hash then 'posting_changed'
        else 'restated'
    end as event_type,
    previous_period_month is null as is_first_record,
    workers.worker_sk, records.id_number_hash, records.certificate_level, records.registration_status,
    records.certified_on, records.registered_on, records.employer_uscc, records.station_code, records.region_code,
    records.county_code, records.source_file, records.source_row
from records
left join marts.dim_worker as workers
    on records.id_number_hash = workers.id_number_hash
    and records.period_month >= workers.valid_from and records.period_month < workers.valid_to;

create or replace table marts.fct_funding as
select
    contract_no, project_name, funding_source, skey(funding_source) as funding_source_sk, purchaser_region_code,
    skey(purchaser_region_code) as purchaser_region_sk, provider_uscc,
    case when provider_uscc is not null then skey(provider_uscc) end as provider_agency_sk,
    amount_yuan, signed_on, cast(strftime(signed_on, '%Y%m%d') as integer) as signed_date_key,
    year(signed_on) as signed_year, service_start_on, service_end_on,
    date_diff('day', service_start_on, service_end_on) + 1 as service_days, period_month, source_file, source_row
from staging.stg_funding;

create or replace table marts.fct_station_coverage as
with divisions as (
    select county_code,
        count(*) filter (where division_level = 'township') as townships_total,
        count(*) filter (where division_level = 'village') as villages_total
    from staging.stg_regions group by county_code
), counties as (
    select county_code from divisions union select county_code from intermediate.int_station_months
), months as (
    select month_start from intermediate.int_months
    where month_start >= (select min(month_start) from intermediate.int_station_months)
), stations as (
    select month_start, county_code,
        count(*) filter (where station_level = 'township' and is_built) as township_stations_built,
        count(*) filter (where station_level = 'township' and is_operating) as township_stations_operating,
        count(*) filter (where station_level = 'village' and is_built) as village_rooms_built,
        count(*) filter (where station_level = 'village' and is_operating) as village_rooms_operating,
        sum(case when is_operating then coalesce(resident_workers, 0) else 0 end) as resident_workers
    from intermediate.int_station_months group by all
)
select
    skey(months.month_start || '-' || counties.county_code) as station_coverage_id, months.month_start,
    counties.county_code, skey(counties.county_code) as county_region_sk,
    coalesce(township_stations_built, 0) as township_stations_built,
    coalesce(township_stations_operating, 0) as township_stations_operating,
    coalesce(village_rooms_built, 0) as village_rooms_built,
    coalesce(village_rooms_operating, 0) as village_rooms_operating,
    coalesce(resident_workers, 0) as resident_workers,
    coalesce(townships_total, 0) as townships_total, coalesce(villages_total, 0) as villages_total,
    case when townships_total > 0 then round(100.0 * coalesce(township_stations_operating, 0) / townships_total, 1) end
        as township_coverage_rate,
    case when villages_total > 0 then round(100.0 * coalesce(village_rooms_operating, 0) / villages_total, 1) end
        as village_coverage_rate
from months
cross join counties
left join stations on months.month_start = stations.month_start and counties.county_code = stations.county_code
left join divisions on counties.county_code = divisions.county_code;

create or replace table marts.fct_training_attendance as
select
    attendance.attendance_id, attendance.period_month, attendance.session_code, sessions.program,
    skey(sessions.program) as training_program_sk, sessions.organizer_region_code,
    skey(sessions.organizer_region_code) as organizer_region_sk, sessions.start_on as session_start_on,
    attendance.id_number_hash, workers.worker_sk, attendance.attendee_name_masked, attendance.certificate_no,
    attendance.is_completed, attendance.credited_hours,
    case when attendance.is_completed then attendance.credited_hours else 0 end as completed_hours,
    case when attendance.is_completed and programs.counts_toward_continuing_education
        then attendance.credited_hours else 0 end as continuing_education_hours,
    attendance.source_file, attendance.source_row
from staging.stg_training_attendance as attendance
inner join staging.stg_training_sessions as sessions on attendance.session_code = sessions.session_code
left join staging.training_programs as programs on sessions.program = programs.program
left join marts.dim_worker as workers
    on attendance.id_number_hash = workers.id_number_hash
    and date_trunc('month', sessions.start_on) >= workers.valid_from
    and date_trunc('month', sessions.start_on) < workers.valid_to;
