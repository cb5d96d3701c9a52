{#- The counts behind every window-month indicator (docs/rules.md#window-month), one row per window × month
    from the first data month through the as-of month, for the windows open in that month
    (opened_on / closed_on of int_reference__windows, the rows of dim_window) plus any window with activity that month.
    Its department and centre are those of the window's version in force on the month's first day
    (int_reference__window_versions, docs/rules.md#reference-versions): a window moved to another
    department keeps its earlier months in the old one.
    Each count is aligned to its own month: acceptance month (cases_accepted, off_book_cases,
    the OB_BACKFILL veto), completion month (timeliness, evaluation_rate), evaluation month
    (ratings), deadline month (rectification), flag month (video), legal deadline month
    (legal_overdue_cases), signal month (timeliness_signal_cases: distinct cases with a timeliness
    signal dated that month; docs/rules.md#timeliness-signals).
    v2 好差评 (docs/rules.md#default-ratings, #appeals, #verification, #callback): `evaluations` is the
    satisfaction denominator - the month's ratings that are neither system defaults nor overturned
    on appeal (v1: every rating; the same on data with neither), so good_reviews / evaluations and
    the Bayesian v stay the satisfaction figures everywhere they are computed; default_ratings and
    appeals_overturned (by evaluation month) are shown beside it. verification_due / _on_time by the
    month of the verification deadline, callback_due / _on_time by the month of the callback
    deadline; actively_evaluated_cases (a non-default evaluation) by completion month. -#}
with windows as (
    select window_id, opened_on, closed_on
    from {{ ref('int_reference__windows') }}
),

cases as (
    select case_id, window_id, item_kind, status, accepted_at, completed_at, is_on_time, is_same_day,
        case when uses_assumed_calendar then 1 else 0 end as assumed_int,
        is_legal_overdue, legal_deadline_date
    from {{ ref('int_cases__accepted') }}
),

signalled_cases as (
    select distinct case_id from {{ ref('int_off_book__case_signals') }}
),

accepted as (
    select
        cases.window_id,
        cast({{ dbt.date_trunc('month', 'cases.accepted_at') }} as date) as month,
        count(*) as cases_accepted,
        sum(case when signalled_cases.case_id is not null then 1 else 0 end) as off_book_cases,
        max(cases.assumed_int) as accepted_assumed_int
    from cases
    left join signalled_cases on signalled_cases.case_id = cases.case_id
    group by cases.window_id, cast({{ dbt.date_trunc('month', 'cases.accepted_at') }} as date)
),

completed as (
    select
        cases.window_id,
        cast({{ dbt.date_trunc('month', 'cases.completed_at') }} as date) as month,
        count(*) as cases_completed,
        {#- the on-time denominator: completions with a verdict (a case whose item has no limit
            at all has is_on_time null and stays out of every timeliness rate) -#}
        sum(case when cases.is_on_time is not null then 1 else 0 end) as timed_completed,
        sum(case when cases.is_on_time then 1 else 0 end) as on_time_cases,
        sum(case when cases.is_same_day then 1 else 0 end) as same_day_cases,
        sum(case when cases.item_kind = 'immediate' and cases.is_on_time is not null then 1 else 0 end) as immediate_completed,
        sum(case when cases.item_kind = 'immediate' and cases.is_on_time then 1 else 0 end) as immediate_on_time,
        {#- a membership test (a mark join on fct_evaluation's case ids, duplicates and all), not a
            join to its distinct case ids: the distinct over 2 M evaluations was the model's most
            expensive step (1.9 of 7 CPU-s at city) -#}
        sum(case when cases.case_id in (
                select evaluations.case_id from {{ ref('int_satisfaction__evaluations') }} as evaluations
                where evaluations.case_id is not null) then 1 else 0 end) as evaluated_cases,
        {#- 主动评价率: an evaluation the applicant gave (not a system default) -#}
        sum(case when cases.case_id in (
                select evaluations.case_id from {{ ref('int_satisfaction__evaluations') }} as evaluations
                where evaluations.case_id is not null and not evaluations.is_default) then 1 else 0 end)
            as actively_evaluated_cases,
        max(cases.assumed_int) as completed_assumed_int
    from cases
    where cases.status = 'completed' and cases.completed_at is not null
    group by cases.window_id, cast({{ dbt.date_trunc('month', 'cases.completed_at') }} as date)
),

ratings as (
    select
        window_id,
        evaluated_month as month,
        sum(case when is_default or is_overturned then 0 else 1 end) as evaluations,
        sum(case when is_good then 1 else 0 end) as good_reviews,
        sum(case when is_bad then 1 else 0 end) as bad_reviews,
        sum(case when is_default then 1 else 0 end) as default_ratings,
        sum(case when is_overturned then 1 else 0 end) as appeals_overturned
    from {{ ref('int_satisfaction__evaluations') }}
    group by window_id, evaluated_month
),

verification as (
    select
        window_id,
        verification_month as month,
        sum(case when is_verification_due then 1 else 0 end) as verification_due,
        sum(case when is_verification_due and is_verified_on_time then 1 else 0 end) as verified_on_time
    from {{ ref('int_satisfaction__evaluations') }}
    where needs_verification and verification_month is not null
    group by window_id, verification_month
),

callback as (
    select
        window_id,
        callback_month as month,
        sum(case when is_callback_due then 1 else 0 end) as callback_due,
        sum(case when is_callback_due and is_called_back_on_time then 1 else 0 end) as called_back_on_time
    from {{ ref('int_satisfaction__evaluations') }}
    where needs_callback and callback_month is not null
    group by window_id, callback_month
),

rectification as (
    select
        window_id,
        rectification_month as month,
        sum(case when is_rectification_due then 1 else 0 end) as rectification_due,
        sum(case when is_rectification_due and is_rectified_on_time then 1 else 0 end) as rectified_on_time,
        sum(case when is_rectification_late then 1 else 0 end) as rectification_late
    from {{ ref('int_satisfaction__evaluations') }}
    where needs_rectification and rectification_month is not null
    group by window_id, rectification_month
),

flags as (
    select
        window_id,
        flagged_month as month,
        sum(case when counts_for_discipline then 1 else 0 end) as video_flags_confirmed,
        sum(case when counts_for_discipline and flag_type = 'private_handover' then 1 else 0 end) as handover_flags_confirmed,
        sum(case when is_review_pending then 1 else 0 end) as video_flags_pending,
        {{ dbt.listagg(
            "case when counts_for_discipline and flag_type = 'private_handover' then "
                ~ dbt.concat(['flag_id', "' '", as_text('flagged_at')]) ~ " end",
            "', '", 'order by flagged_at, flag_id') }} as handover_flag_list
    from {{ ref('int_video__flags') }}
    group by window_id, flagged_month
),

backfill as (
    select
        cases.window_id,
        cast({{ dbt.date_trunc('month', 'cases.accepted_at') }} as date) as month,
        count(*) as backfill_cases,
        {{ dbt.listagg('signals.case_id', "', '", 'order by signals.case_id') }} as backfill_case_list
    from {{ ref('int_off_book__backfill') }} as signals
    inner join cases on cases.case_id = signals.case_id
    group by cases.window_id, cast({{ dbt.date_trunc('month', 'cases.accepted_at') }} as date)
),

legal_overdue as (
    select
        window_id,
        cast({{ dbt.date_trunc('month', 'legal_deadline_date') }} as date) as month,
        count(*) as legal_overdue_cases
    from cases
    where is_legal_overdue
    group by window_id, cast({{ dbt.date_trunc('month', 'legal_deadline_date') }} as date)
),

timeliness_signalled as (
    select
        window_id,
        cast({{ dbt.date_trunc('month', 'signal_date') }} as date) as month,
        count(distinct case_id) as timeliness_signal_cases
    from {{ ref('int_timeliness__case_signals') }}
    group by window_id, cast({{ dbt.date_trunc('month', 'signal_date') }} as date)
),

activity as (
    select window_id, month from accepted
    union select window_id, month from completed
    union select window_id, month from ratings
    union select window_id, month from rectification where rectification_due > 0
    union select window_id, month from verification where verification_due > 0
    union select window_id, month from callback where callback_due > 0
    union select window_id, month from flags
),

first_month as (
    select min(month) as month from activity
),

months as (
    select days.date as month
    from {{ ref('int_calendar__days') }} as days
    cross join first_month
    where days.date = cast({{ dbt.date_trunc('month', 'days.date') }} as date)
      and days.date >= first_month.month
      and days.date <= {{ as_of_date() }}
),

spine as (
    select windows.window_id, months.month
    from windows
    cross join months
    where (windows.opened_on is null or windows.opened_on < {{ add_months(1, 'months.month') }})
      and (windows.closed_on is null or windows.closed_on > months.month)
    union
    select window_id, month from activity where month <= {{ as_of_date() }}
)

select
    spine.month,
    spine.window_id,
    window_version.department_id,
    window_version.center_id,
    coalesce(accepted.cases_accepted, 0) as cases_accepted,
    coalesce(accepted.off_book_cases, 0) as off_book_cases,
    coalesce(completed.cases_completed, 0) as cases_completed,
    coalesce(completed.timed_completed, 0) as timed_completed,
    coalesce(completed.on_time_cases, 0) as on_time_cases,
    coalesce(completed.same_day_cases, 0) as same_day_cases,
    coalesce(completed.immediate_completed, 0) as immediate_completed,
    coalesce(completed.immediate_on_time, 0) as immediate_on_time,
    coalesce(completed.evaluated_cases, 0) as evaluated_cases,
    coalesce(ratings.evaluations, 0) as evaluations,
    coalesce(ratings.good_reviews, 0) as good_reviews,
    coalesce(ratings.bad_reviews, 0) as bad_reviews,
    coalesce(rectification.rectification_due, 0) as rectification_due,
    coalesce(rectification.rectified_on_time, 0) as rectified_on_time,
    coalesce(rectification.rectification_late, 0) as rectification_late,
    coalesce(flags.video_flags_confirmed, 0) as video_flags_confirmed,
    coalesce(flags.handover_flags_confirmed, 0) as handover_flags_confirmed,
    coalesce(flags.video_flags_pending, 0) as video_flags_pending,
    flags.handover_flag_list,
    coalesce(backfill.backfill_cases, 0) as backfill_cases,
    backfill.backfill_case_list,
    coalesce(accepted.accepted_assumed_int, 0) + coalesce(completed.completed_assumed_int, 0) > 0 as uses_assumed_calendar,
    coalesce(legal_overdue.legal_overdue_cases, 0) as legal_overdue_cases,
    coalesce(timeliness_signalled.timeliness_signal_cases, 0) as timeliness_signal_cases,
    coalesce(completed.actively_evaluated_cases, 0) as actively_evaluated_cases,
    coalesce(ratings.default_ratings, 0) as default_ratings,
    coalesce(ratings.appeals_overturned, 0) as appeals_overturned,
    coalesce(verification.verification_due, 0) as verification_due,
    coalesce(verification.verified_on_time, 0) as verified_on_time,
    coalesce(callback.callback_due, 0) as callback_due,
    coalesce(callback.called_back_on_time, 0) as called_back_on_time
from spine
left join {{ ref('int_reference__window_versions') }} as window_version
    on window_version.window_id = spine.window_id and {{ version_in_force('window_version', 'spine.month') }}
left join accepted on accepted.window_id = spine.window_id and accepted.month = spine.month
left join completed on completed.window_id = spine.window_id and completed.month = spine.month
left join ratings on ratings.window_id = spine.window_id and ratings.month = spine.month
left join rectification on rectification.window_id = spine.window_id and rectification.month = spine.month
left join flags on flags.window_id = spine.window_id and flags.month = spine.month
left join backfill on backfill.window_id = spine.window_id and backfill.month = spine.month
left join legal_overdue on legal_overdue.window_id = spine.window_id and legal_overdue.month = spine.month
left join timeliness_signalled on timeliness_signalled.window_id = spine.window_id and timeliness_signalled.month = spine.month
left join verification on verification.window_id = spine.window_id and verification.month = spine.month
left join callback on callback.window_id = spine.window_id and callback.month = spine.month
