{#- 考勤 window-days (SPEC v2 §4.10 attendance, docs/rules.md#attendance): one row per window and day of the
    window-months the attendance feed covers, through the as-of date - every scheduled day and any
    other day with an attendance row - as int_hall__attendance_window_day classifies them (staffed 在岗,
    covered, absent 缺岗; late arrivals and early leaves of its staff). department_id: the window's
    department on the month's first day, as the monthly figures (int_reference__window_versions).
    Empty while the optional attendance feed has never been delivered. -#}
with window_days as (
    select * from {{ ref('int_hall__attendance_window_day') }}
)

select
    cast(window_days.date as date) as date,
    cast(window_days.month as date) as month,
    cast(window_days.window_id as {{ dbt.type_string() }}) as window_id,
    cast(windows.department_id as {{ dbt.type_string() }}) as department_id,
    cast(window_days.day_kind as {{ dbt.type_string() }}) as day_kind,
    cast(window_days.is_scheduled as boolean) as is_scheduled,
    window_days.open_time,
    window_days.close_time,
    cast(window_days.staffed_staff as {{ dbt.type_bigint() }}) as staffed_staff,
    cast(window_days.excused_staff as {{ dbt.type_bigint() }}) as excused_staff,
    cast(window_days.is_staffed as boolean) as is_staffed,
    cast(window_days.is_covered as boolean) as is_covered,
    cast(window_days.is_absent as boolean) as is_absent,
    cast(window_days.late_arrivals as {{ dbt.type_bigint() }}) as late_arrivals,
    cast(window_days.early_leaves as {{ dbt.type_bigint() }}) as early_leaves
from window_days
left join {{ ref('int_reference__window_versions') }} as windows
    on windows.window_id = window_days.window_id and {{ version_in_force('windows', 'window_days.month') }}
