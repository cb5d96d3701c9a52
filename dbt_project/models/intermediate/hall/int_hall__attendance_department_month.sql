{#- 考勤 per department-month (SPEC v2 §4.10 attendance; docs/rules.md#attendance): the covered
    window-months of int_hall__attendance_window_month summed per department - the window's
    department on the month's first day (int_reference__window_versions, docs/rules.md#reference-versions) -
    with in_post_rate recomputed from the sums (not averaged). Rows only for departments with a
    covered window that month. -#}
with window_months as (
    select * from {{ ref('int_hall__attendance_window_month') }}
),

counted as (
    select
        window_months.month,
        windows.department_id,
        sum(window_months.days_scheduled) as days_scheduled,
        sum(window_months.days_staffed) as days_staffed,
        sum(window_months.days_covered) as days_covered,
        sum(window_months.absent_days) as absent_days,
        sum(window_months.late_arrivals) as late_arrivals,
        sum(window_months.early_leaves) as early_leaves
    from window_months
    left join {{ ref('int_reference__window_versions') }} as windows
        on windows.window_id = window_months.window_id and {{ version_in_force('windows', 'window_months.month') }}
    group by window_months.month, windows.department_id
)

select
    month,
    department_id,
    {{ attendance_month_figures() }}
from counted
