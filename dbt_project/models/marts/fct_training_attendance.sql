{{ config(**monthly_incremental_config('period_month')) }}

{#- One row per attendee per session; incremental by the attendance's reporting month. -#}
with

attendance as (

    select * from {{ ref('stg_training_attendance') }}
    where {{ incremental_month_window('period_month') }}

),

sessions as (

    select * from {{ ref('stg_training_sessions') }}

),

programs as (

    select * from {{ ref('training_programs') }}

)

select
    attendance.attendance_id,
    attendance.period_month,
    attendance.session_code,
    sessions.program,
    {{ generate_surrogate_key(['sessions.program']) }} as training_program_sk,
    sessions.organizer_region_code,
    {{ generate_surrogate_key(['sessions.organizer_region_code']) }} as organizer_region_sk,
    sessions.start_on as session_start_on,
    {{ date_key('sessions.start_on') }} as session_start_date_key,
    attendance.id_number_hash,
    workers.worker_sk,
    attendance.attendee_name_masked,
    attendance.certificate_no,
    attendance.is_completed,
    attendance.credited_hours,
    case when attendance.is_completed then attendance.credited_hours else 0 end as completed_hours,
    case
        when attendance.is_completed and programs.counts_toward_continuing_education
            then attendance.credited_hours
        else 0
    end as continuing_education_hours,
    attendance.source_file,
    attendance.source_row
from attendance
inner join sessions
    on attendance.session_code = sessions.session_code
left join programs
    on sessions.program = programs.program
left join {{ ref('dim_worker') }} as workers
    on
        attendance.id_number_hash = workers.id_number_hash
        and {{ month_start('sessions.start_on') }} >= workers.valid_from
        and {{ month_start('sessions.start_on') }} < workers.valid_to
