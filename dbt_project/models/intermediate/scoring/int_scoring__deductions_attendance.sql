{#- Attendance deductions 考勤扣分 (SPEC v2 §4.6, §4.10; docs/rules.md#attendance-deductions; the centre's
    考核细则: 缺岗、迟到早退 are 扣分 items), in the columns of int_scoring__window_deductions (month,
    window_id, source, ref_id, points, reason), by the month of the day:
    - absent_day: `deduct_absent_day` [3] per absent window-day (int_hall__attendance_window_day:
      scheduled, nobody signed in, nobody on leave or business); ref_id the date.
    - late: `deduct_late` [0.5] per late arrival and per early leave of a staff member at the window
      (int_hall__attendance_staff_day); ref_id the attendance_id (a row both late and early is two
      deductions with the same ref_id).
    The reason names the staff member by staff_id, not by name: the deductions are window figures
    with a wider audience than the personnel data of fct_staff_month. Only points > 0 are listed
    (a deduction configured at 0 lists nothing). -#}
with window_days as (
    select * from {{ ref('int_hall__attendance_window_day') }}
),

staff_days as (
    select * from {{ ref('int_hall__attendance_staff_day') }}
    where window_id is not null
),

absent_day as (
    select
        month,
        window_id,
        'absent_day' as source,
        {{ as_text('date') }} as ref_id,
        cast({{ var('deduct_absent_day') }} as {{ type_double() }}) as points,
        {{ dbt.concat([as_text('date'), "' 窗口缺岗（无人签到，无请假或公务外出）'"]) }} as reason
    from window_days
    where is_absent
),

{#- one row per late arrival 迟到 and per early leave 早退: (flag, word, minutes, clock, clock word, hours word, hours) -#}
{%- set staff_events = [
    ('is_late_arrival', '迟到', 'late_minutes', 'sign_in_at', '签到', '开放', 'open_time'),
    ('is_early_leave', '早退', 'early_minutes', 'sign_out_at', '签退', '关闭', 'close_time'),
] %}
late as (
    {%- for flag, word, minutes, clock, clock_word, hours_word, hours in staff_events %}
    select
        month,
        window_id,
        'late' as source,
        attendance_id as ref_id,
        cast({{ var('deduct_late') }} as {{ type_double() }}) as points,
        {{ dbt.concat([as_text('work_date'), "' 工作人员 '", 'staff_id', "' " ~ word ~ " '", as_text(minutes),
                       "' 分钟（" ~ clock_word ~ " '", clock_text(time_of_day(clock)), "'，" ~ hours_word ~ " '", clock_text(hours), "'）'"]) }}
            as reason
    from staff_days
    where {{ flag }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

deductions as (
    select month, window_id, source, ref_id, points, reason from absent_day
    union all
    select month, window_id, source, ref_id, points, reason from late
)

select
    cast(month as date) as month,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(source as {{ dbt.type_string() }}) as source,
    cast(ref_id as {{ dbt.type_string() }}) as ref_id,
    points,
    cast(reason as {{ dbt.type_string() }}) as reason
from deductions
where points > 0
