{#- 考勤 staff-days (SPEC v2 §4.10 attendance; docs/rules.md#attendance; the centre's 考核细则 on 在岗 and
    迟到早退): one row per attendance row (attendance_id) on or before the as-of date, with the rules of
    one staff member's day.
    - window_id: the window the row names, else the staff member's window in the staff feed (a row
      whose window cannot be resolved stays here with a null window and counts at no window).
    - The window's hours that day (macros/hall_hours.sql `with_hall_hours`: the window's own
      hall_hours row, else its centre's, else the scoring file's default; working / non-working per
      int_calendar__days). is_scheduled: the hours open that day.
    - absence_type (default none): absent 旷岗 is the staff member's absent day (is_absent); leave 请假
      and business 公务外出 excuse the day (is_excused: it can cover the window-day, and no late
      arrival or early leave is counted on it - a half-day leave signs in late by design).
    - is_signed_in: a sign-in on a row that is not absent (it staffs the window that day).
    - Late arrival 迟到: on a scheduled day, a row of absence_type none signed in more than
      `late_grace_minutes` [5] after the opening time (exactly at the grace is not late); early leave
      早退: signed out more than the grace before the closing time. late_minutes / early_minutes are the
      whole minutes after opening / before closing (what a person checks against the clock).
    A day with no row is no event for the staff member (the window-day rules decide the window). -#}
with staff as (
    select staff_id, window_id
    from {{ ref('stg_landing__staff') }}
),

attendance as (
    select
        attendance.attendance_id,
        attendance.staff_id,
        coalesce(attendance.window_id, staff.window_id) as window_id,
        attendance.work_date,
        attendance.sign_in_at,
        attendance.sign_out_at,
        coalesce(attendance.absence_type, 'none') as absence_type
    from {{ ref('stg_landing__attendance') }} as attendance
    left join staff on staff.staff_id = attendance.staff_id
    where attendance.work_date is not null
      and attendance.work_date <= {{ as_of_date() }}
),

hours as (
    select
        attendance_hours.*,
        attendance_hours.open_time is not null and attendance_hours.close_time is not null as is_scheduled,
        cast({{ dbt.concat([as_text('attendance_hours.work_date'), "' '", as_text('attendance_hours.open_time')]) }}
            as {{ dbt.type_timestamp() }}) as open_at,
        cast({{ dbt.concat([as_text('attendance_hours.work_date'), "' '", as_text('attendance_hours.close_time')]) }}
            as {{ dbt.type_timestamp() }}) as close_at
    from {{ with_hall_hours('attendance', 'window_id', 'work_date') }} as attendance_hours
),

measured as (
    select
        hours.*,
        absence_type = 'absent' as is_absent,
        absence_type in ('leave', 'business') as is_excused,
        sign_in_at is not null and absence_type <> 'absent' as is_signed_in,
        case when is_scheduled and absence_type = 'none' and sign_in_at is not null
            then {{ seconds_between('open_at', 'sign_in_at') }} end as late_seconds,
        case when is_scheduled and absence_type = 'none' and sign_out_at is not null
            then {{ seconds_between('sign_out_at', 'close_at') }} end as early_seconds
    from hours
)

select
    attendance_id,
    staff_id,
    window_id,
    work_date,
    cast({{ dbt.date_trunc('month', 'work_date') }} as date) as month,
    sign_in_at,
    sign_out_at,
    absence_type,
    day_kind,
    open_time,
    close_time,
    is_scheduled,
    is_signed_in,
    is_excused,
    is_absent,
    coalesce(late_seconds > {{ var('late_grace_minutes') }} * 60, false) as is_late_arrival,
    case when late_seconds > 0 then cast(floor(late_seconds / 60) as {{ dbt.type_int() }}) end as late_minutes,
    coalesce(early_seconds > {{ var('late_grace_minutes') }} * 60, false) as is_early_leave,
    case when early_seconds > 0 then cast(floor(early_seconds / 60) as {{ dbt.type_int() }}) end as early_minutes
from measured
