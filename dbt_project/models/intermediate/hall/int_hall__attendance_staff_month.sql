{#- 考勤 per staff member, window and month (SPEC v2 §4.10 attendance, §4.12 staff stars;
    docs/rules.md#attendance): the staff member's own late arrivals, early leaves and absent days
    (distinct dates with an absence_type absent 旷岗 row) at each window they have attendance rows
    for that month. Read by fct_staff_month (summed over the windows). -#}
select
    month,
    staff_id,
    window_id,
    sum(case when is_late_arrival then 1 else 0 end) as late_arrivals,
    sum(case when is_early_leave then 1 else 0 end) as early_leaves,
    count(distinct case when is_absent then work_date end) as absent_days
from {{ ref('int_hall__attendance_staff_day') }}
group by month, staff_id, window_id
