{#- 考勤 per window-month (SPEC v2 §4.10 attendance; docs/rules.md#attendance): rows only for the
    window-months the attendance feed covers (≥ 1 attendance row of the window that month; elsewhere no
    row, so the figures joined from here are null). Counts of int_hall__attendance_window_day:
    days_scheduled, days_staffed, days_covered, absent_days (window-days absent 缺岗), and
    in_post_rate 在岗率 = days_staffed / (days_scheduled − days_covered) (null when that is 0);
    late_arrivals and early_leaves summed over the window's staff rows. -#}
with window_days as (
    select * from {{ ref('int_hall__attendance_window_day') }}
),

counted as (
    select
        month,
        window_id,
        {{ attendance_day_counts() }}
    from window_days
    group by month, window_id
)

select
    month,
    window_id,
    {{ attendance_month_figures() }}
from counted
