{#- Staff stars 星级服务人员 (SPEC v2 §4.12, docs/rules.md#staff-stars): one row per staff member and month
    with a completed case, a rating or an attendance row of theirs that month (through the as-of month).
    - window_id: the staff member's window in the staff feed; a staff member the feed does not know: the
      window of their cases, else of their ratings, else of their attendance rows that month (the least
      window_id). department_id and center_id: that window's version in force on the month's first day
      (else the staff feed's department).
    - cases_completed: cases whose first `accept` event the staff member recorded (its staff_id), by
      completion month; on_time_rate over those with an on-time verdict (as the window's).
    - evaluations: ratings with the staff_id that count in satisfaction (not system defaults, not
      overturned; int_satisfaction__evaluations), by evaluation month; satisfaction_rate = good /
      evaluations; adjusted_satisfaction by the window's Bayesian rule (macros/scoring.sql
      `bayesian_adjusted`) with c = the centre's rate that month (good / ratings of int_scoring__window_month_base, as the window's);
      bad_reviews: 差评 not overturned.
    - late_arrivals, early_leaves, absent_days: the staff member's own (int_hall__attendance_staff_month,
      summed over windows); 0 when the staff member has no row but their window's month is covered by
      the attendance feed; null when it is not (feed not delivered there).
    - score (macros/staff.sql), stars by the window thresholds (macros/scoring.sql `star_rating`) only
      for an eligible staff member (≥ min_completed_cases completed cases and a score), rank per month and
      centre among the eligible (1 = best, ties share, the next skips: 1, 2, 2, 4).
    Personnel data: inspectors and auditors only, never in a public report (SPEC §4.12, §8). -#}
with accepted_by as (
    select
        cases.case_id,
        cases.window_id,
        cases.completed_at,
        cases.is_on_time,
        accept.staff_id
    from {{ ref('int_cases__accepted') }} as cases
    inner join {{ ref('int_cases__events') }} as accept on accept.event_id = cases.accept_event_id
    where cases.status = 'completed' and cases.completed_at is not null and accept.staff_id is not null
),

completed as (
    select
        staff_id,
        cast({{ dbt.date_trunc('month', 'completed_at') }} as date) as month,
        count(*) as cases_completed,
        sum(case when is_on_time is not null then 1 else 0 end) as timed_completed,
        sum(case when is_on_time then 1 else 0 end) as on_time_cases,
        min(window_id) as window_id
    from accepted_by
    group by staff_id, cast({{ dbt.date_trunc('month', 'completed_at') }} as date)
),

ratings as (
    select
        staff_id,
        evaluated_month as month,
        sum(case when is_default or is_overturned then 0 else 1 end) as evaluations,
        sum(case when is_good then 1 else 0 end) as good_reviews,
        sum(case when is_bad then 1 else 0 end) as bad_reviews,
        min(window_id) as window_id
    from {{ ref('int_satisfaction__evaluations') }}
    where staff_id is not null
    group by staff_id, evaluated_month
),

attendance as (
    select
        staff_id,
        month,
        sum(late_arrivals) as late_arrivals,
        sum(early_leaves) as early_leaves,
        sum(absent_days) as absent_days,
        min(window_id) as window_id
    from {{ ref('int_hall__attendance_staff_month') }}
    group by staff_id, month
),

staff_months as (
    select staff_id, month from completed
    union select staff_id, month from ratings
    union select staff_id, month from attendance
),

staff as (
    select staff_id, window_id, department_id
    from {{ ref('stg_landing__staff') }}
),

placed as (
    select
        staff_months.month,
        staff_months.staff_id,
        coalesce(staff.window_id, completed.window_id, ratings.window_id, attendance.window_id) as window_id,
        staff.department_id as staff_department_id,
        coalesce(completed.cases_completed, 0) as cases_completed,
        coalesce(completed.timed_completed, 0) as timed_completed,
        coalesce(completed.on_time_cases, 0) as on_time_cases,
        coalesce(ratings.evaluations, 0) as evaluations,
        coalesce(ratings.good_reviews, 0) as good_reviews,
        coalesce(ratings.bad_reviews, 0) as bad_reviews,
        attendance.staff_id is not null as has_attendance,
        attendance.late_arrivals,
        attendance.early_leaves,
        attendance.absent_days
    from staff_months
    left join staff on staff.staff_id = staff_months.staff_id
    left join completed on completed.staff_id = staff_months.staff_id and completed.month = staff_months.month
    left join ratings on ratings.staff_id = staff_months.staff_id and ratings.month = staff_months.month
    left join attendance on attendance.staff_id = staff_months.staff_id and attendance.month = staff_months.month
    where staff_months.month <= {{ as_of_date() }}
),

{#- c: the centre's rate that month, from the same window-month counts as fct_window_month's prior
    (good reviews / ratings counting in satisfaction, over the centre's windows; null with none) -#}
center_rates as (
    select
        month,
        center_id,
        case when sum(evaluations) > 0
            then cast(sum(good_reviews) as {{ type_double() }}) / sum(evaluations) end as center_satisfaction_rate
    from {{ ref('int_scoring__window_month_base') }}
    group by month, center_id
),

rated as (
    select
        placed.month,
        placed.staff_id,
        placed.window_id,
        coalesce(windows.department_id, placed.staff_department_id) as department_id,
        windows.center_id,
        placed.cases_completed,
        case when placed.timed_completed > 0 then cast(placed.on_time_cases as {{ type_double() }}) / placed.timed_completed end
            as on_time_rate,
        placed.evaluations,
        placed.good_reviews,
        case when placed.evaluations > 0 then cast(placed.good_reviews as {{ type_double() }}) / placed.evaluations end
            as satisfaction_rate,
        center_rates.center_satisfaction_rate,
        placed.bad_reviews,
        {#- the staff member's own counts; 0 at a covered window-month without a row of theirs; null where the feed is silent -#}
        case when placed.has_attendance then placed.late_arrivals when covered.window_id is not null then 0 end as late_arrivals,
        case when placed.has_attendance then placed.early_leaves when covered.window_id is not null then 0 end as early_leaves,
        case when placed.has_attendance then placed.absent_days when covered.window_id is not null then 0 end as absent_days
    from placed
    left join {{ ref('int_reference__window_versions') }} as windows
        on windows.window_id = placed.window_id and {{ version_in_force('windows', 'placed.month') }}
    left join center_rates on center_rates.center_id = windows.center_id and center_rates.month = placed.month
    left join {{ ref('int_hall__attendance_window_month') }} as covered
        on covered.window_id = placed.window_id and covered.month = placed.month
),

adjusted as (
    select
        rated.*,
        {{ bayesian_adjusted('evaluations', 'satisfaction_rate', 'center_satisfaction_rate') }} as adjusted_satisfaction
    from rated
),

scored as (
    select
        adjusted.*,
        {{ staff_score() }} as score
    from adjusted
),

eligible as (
    select
        scored.*,
        cases_completed >= {{ var('min_completed_cases') }} and score is not null as is_eligible
    from scored
)

select
    cast(month as date) as month,
    cast(staff_id as {{ dbt.type_string() }}) as staff_id,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(department_id as {{ dbt.type_string() }}) as department_id,
    cast(center_id as {{ dbt.type_string() }}) as center_id,
    cast(cases_completed as {{ dbt.type_bigint() }}) as cases_completed,
    cast(on_time_rate as {{ type_double() }}) as on_time_rate,
    cast(evaluations as {{ dbt.type_bigint() }}) as evaluations,
    cast(good_reviews as {{ dbt.type_bigint() }}) as good_reviews,
    cast(satisfaction_rate as {{ type_double() }}) as satisfaction_rate,
    cast(center_satisfaction_rate as {{ type_double() }}) as center_satisfaction_rate,
    cast(adjusted_satisfaction as {{ type_double() }}) as adjusted_satisfaction,
    cast(bad_reviews as {{ dbt.type_bigint() }}) as bad_reviews,
    cast(late_arrivals as {{ dbt.type_bigint() }}) as late_arrivals,
    cast(early_leaves as {{ dbt.type_bigint() }}) as early_leaves,
    cast(absent_days as {{ dbt.type_bigint() }}) as absent_days,
    cast(score as {{ type_double() }}) as score,
    cast({{ star_rating('score', 'is_eligible') }} as {{ dbt.type_int() }}) as stars,
    cast(case when is_eligible then rank() over (partition by month, center_id, is_eligible order by score desc) end
        as {{ dbt.type_bigint() }}) as rank,
    cast(is_eligible as boolean) as is_eligible
from eligible
