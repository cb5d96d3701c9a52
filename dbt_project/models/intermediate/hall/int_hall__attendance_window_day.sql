{#- 考勤 window-days (SPEC v2 §4.10 attendance; docs/rules.md#attendance; the centre's 考核细则 on 在岗):
    one row per window and day of the window-months the attendance feed covers (the window has at
    least one attendance row that month; other window-months have no row: the feed is silent there),
    through the as-of date - every scheduled day, and any other day with an attendance row.
    - Scheduled: the window's hall hours open that day (macros/hall_hours.sql `with_hall_hours`;
      weekends and holidays are closed unless hall_hours opens them, 调休 make-up days are working days).
    - Staffed 在岗: a scheduled day on which at least one staff member of the window signed in.
    - Covered: a scheduled day not staffed on which a staff member of the window has absence_type
      leave 请假 or business 公务外出 - neither staffed nor absent, and left out of in_post_rate.
    - Absent 缺岗: a scheduled day neither staffed nor covered (nobody signed in, nobody excused).
    A day that is not scheduled is none of the three (its sign-ins still show in staffed_staff).
    late_arrivals / early_leaves: the staff rows of the window that day (int_hall__attendance_staff_day). -#}
with staff_days as (
    select * from {{ ref('int_hall__attendance_staff_day') }}
    where window_id is not null
),

covered_months as (
    select distinct window_id, month
    from staff_days
),

days as (
    select * from {{ days_of_window_months('covered_months') }} as covered_days
),

per_day as (
    select
        window_id,
        work_date,
        count(distinct case when is_signed_in then staff_id end) as staffed_staff,
        count(distinct case when is_excused then staff_id end) as excused_staff,
        sum(case when is_late_arrival then 1 else 0 end) as late_arrivals,
        sum(case when is_early_leave then 1 else 0 end) as early_leaves
    from staff_days
    group by window_id, work_date
),

with_hours as (
    select * from {{ with_hall_hours('days', 'window_id', 'date') }} as day_hours
),

classified as (
    select
        with_hours.date,
        with_hours.month,
        with_hours.window_id,
        with_hours.day_kind,
        with_hours.open_time,
        with_hours.close_time,
        with_hours.open_time is not null and with_hours.close_time is not null as is_scheduled,
        coalesce(per_day.staffed_staff, 0) as staffed_staff,
        coalesce(per_day.excused_staff, 0) as excused_staff,
        coalesce(per_day.late_arrivals, 0) as late_arrivals,
        coalesce(per_day.early_leaves, 0) as early_leaves,
        per_day.window_id is not null as has_attendance
    from with_hours
    left join per_day on per_day.window_id = with_hours.window_id and per_day.work_date = with_hours.date
)

select
    date,
    month,
    window_id,
    day_kind,
    open_time,
    close_time,
    is_scheduled,
    staffed_staff,
    excused_staff,
    is_scheduled and staffed_staff > 0 as is_staffed,
    is_scheduled and staffed_staff = 0 and excused_staff > 0 as is_covered,
    is_scheduled and staffed_staff = 0 and excused_staff = 0 as is_absent,
    late_arrivals,
    early_leaves
from classified
where is_scheduled or has_attendance
