{#- The same indicators per department and month (docs/rules.md#department-month), summed from the window-month counts
    (rates are recomputed from the sums, not averaged), plus the department's own reported count
    (dept_volumes, 应进必进): volume_gap = reported_cases − cases_accepted (the cases the centre
    recorded for the department by acceptance month; null when nothing was reported) and
    has_volume_gap_signal when OB_VOLUME_GAP fired (reported > volume_gap_ratio × recorded).
    adjusted_satisfaction uses c = the rate of all ratings in the warehouse that month.
    Score and its components follow the window formula (macros/scoring.sql), without ranking:
    v2, no score without T, S left out (score_note) when no rating at all that month. The
    department's `deductions` is the sum of its windows' (by the window's department that month);
    they are per window and are not taken off the department's score. The hall-operation and
    supervision figures come from int_hall__department_month (SPEC v2 §4.10, §4.11). -#}
with windows as (
    select
        month,
        department_id,
        sum(cases_accepted) as cases_accepted,
        sum(off_book_cases) as off_book_cases,
        sum(cases_completed) as cases_completed,
        sum(timed_completed) as timed_completed,
        sum(on_time_cases) as on_time_cases,
        sum(same_day_cases) as same_day_cases,
        sum(immediate_completed) as immediate_completed,
        sum(immediate_on_time) as immediate_on_time,
        sum(evaluated_cases) as evaluated_cases,
        sum(evaluations) as evaluations,
        sum(good_reviews) as good_reviews,
        sum(bad_reviews) as bad_reviews,
        sum(rectification_due) as rectification_due,
        sum(rectified_on_time) as rectified_on_time,
        sum(rectification_late) as rectification_late,
        sum(video_flags_confirmed) as video_flags_confirmed,
        sum(handover_flags_confirmed) as handover_flags_confirmed,
        sum(video_flags_pending) as video_flags_pending,
        sum(legal_overdue_cases) as legal_overdue_cases,
        sum(timeliness_signal_cases) as timeliness_signal_cases,
        sum(actively_evaluated_cases) as actively_evaluated_cases,
        sum(default_ratings) as default_ratings,
        sum(appeals_overturned) as appeals_overturned,
        sum(verification_due) as verification_due,
        sum(verified_on_time) as verified_on_time,
        sum(callback_due) as callback_due,
        sum(called_back_on_time) as called_back_on_time
    from {{ ref('int_scoring__window_month_base') }}
    where department_id is not null
    group by month, department_id
),

deductions as (
    select base.month, base.department_id, sum(deductions.points) as deductions
    from {{ ref('int_scoring__window_deductions') }} as deductions
    inner join {{ ref('int_scoring__window_month_base') }} as base
        on base.window_id = deductions.window_id and base.month = deductions.month
    where base.department_id is not null
    group by base.month, base.department_id
),

reported as (
    select department_id, month, reported_cases
    from {{ ref('stg_landing__dept_volumes') }}
    where month <= {{ as_of_date() }}
),

gap_signals as (
    select department_id, signal_date as month
    from {{ ref('int_off_book__volume_gap') }}
),

spine as (
    select month, department_id from windows
    union
    select month, department_id from reported
),

joined as (
    select
        spine.month,
        spine.department_id,
        coalesce(windows.cases_accepted, 0) as cases_accepted,
        coalesce(windows.off_book_cases, 0) as off_book_cases,
        coalesce(windows.cases_completed, 0) as cases_completed,
        coalesce(windows.timed_completed, 0) as timed_completed,
        coalesce(windows.on_time_cases, 0) as on_time_cases,
        coalesce(windows.same_day_cases, 0) as same_day_cases,
        coalesce(windows.immediate_completed, 0) as immediate_completed,
        coalesce(windows.immediate_on_time, 0) as immediate_on_time,
        coalesce(windows.evaluated_cases, 0) as evaluated_cases,
        coalesce(windows.evaluations, 0) as evaluations,
        coalesce(windows.good_reviews, 0) as good_reviews,
        coalesce(windows.bad_reviews, 0) as bad_reviews,
        coalesce(windows.rectification_due, 0) as rectification_due,
        coalesce(windows.rectified_on_time, 0) as rectified_on_time,
        coalesce(windows.rectification_late, 0) as rectification_late,
        coalesce(windows.video_flags_confirmed, 0) as video_flags_confirmed,
        coalesce(windows.handover_flags_confirmed, 0) as handover_flags_confirmed,
        coalesce(windows.video_flags_pending, 0) as video_flags_pending,
        coalesce(windows.legal_overdue_cases, 0) as legal_overdue_cases,
        coalesce(windows.timeliness_signal_cases, 0) as timeliness_signal_cases,
        coalesce(windows.actively_evaluated_cases, 0) as actively_evaluated_cases,
        coalesce(windows.default_ratings, 0) as default_ratings,
        coalesce(windows.appeals_overturned, 0) as appeals_overturned,
        coalesce(windows.verification_due, 0) as verification_due,
        coalesce(windows.verified_on_time, 0) as verified_on_time,
        coalesce(windows.callback_due, 0) as callback_due,
        coalesce(windows.called_back_on_time, 0) as called_back_on_time,
        reported.reported_cases,
        gap_signals.department_id is not null as has_volume_gap_signal,
        coalesce(deductions.deductions, 0) as deductions
    from spine
    left join windows on windows.month = spine.month and windows.department_id = spine.department_id
    left join reported on reported.month = spine.month and reported.department_id = spine.department_id
    left join gap_signals on gap_signals.month = spine.month and gap_signals.department_id = spine.department_id
    left join deductions on deductions.month = spine.month and deductions.department_id = spine.department_id
),

rates as (
    select
        joined.*,
        {{ monthly_rates() }},
        case when sum(evaluations) over (partition by month) > 0
            then cast(sum(good_reviews) over (partition by month) as {{ type_double() }}) / sum(evaluations) over (partition by month)
        end as overall_satisfaction_rate
    from joined
),

components as (
    select
        rates.*,
        {{ score_components('overall_satisfaction_rate') }}
    from rates
)

select
    cast(components.month as date) as month,
    cast(components.department_id as {{ dbt.type_string() }}) as department_id,
    {{ monthly_indicator_columns() }},
    cast(reported_cases as {{ dbt.type_bigint() }}) as reported_cases,
    cast(case when reported_cases is not null then reported_cases - cases_accepted end as {{ dbt.type_bigint() }}) as volume_gap,
    cast(has_volume_gap_signal as boolean) as has_volume_gap_signal,
    cast(rectification_late as {{ dbt.type_bigint() }}) as rectification_late,
    cast(component_t as double) as component_t,
    cast(component_s as double) as component_s,
    cast(component_d as double) as component_d,
    cast(component_i as double) as component_i,
    cast(component_r as double) as component_r,
    cast({{ window_score() }} as double) as score,
    cast({{ score_note() }} as {{ dbt.type_string() }}) as score_note,
    cast(deductions as double) as deductions,
    {{ hall_indicator_columns('hall') }},
    {{ as_of_date() }} as as_of_date
from components
left join {{ ref('int_hall__department_month') }} as hall
    on hall.department_id = components.department_id and hall.month = components.month
