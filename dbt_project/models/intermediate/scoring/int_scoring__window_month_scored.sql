{#- Rates, score components, deductions, score, stars and veto per window-month (docs/rules.md#monthly-rates, #score, #deductions, #stars, #veto, #eligibility).
    - Rates are null when their denominator is 0, except rectification_rate (1.0 when none due).
    - on_time_rate and immediate_on_time_rate count only completions with an on-time verdict
      (timed_completed): a case whose item has no limit at all is in no timeliness rate.
    - c = the satisfaction rate of the window's centre that month (all ratings of its windows).
    - Components: T = on_time_rate, S = adjusted_satisfaction (c with no ratings), R =
      rectification_rate, D = max(0, 1 − p × confirmed flags other than private_handover),
      I = max(0, 1 − p × off_book_rate) with the rate taken as 0 when nothing was accepted.
    - v2 (SPEC §4.6): no T (nothing completed with an on-time verdict) → no score, no stars, not
      eligible (v1 showed ★★★★★ 100.00 for a window that finished nothing); S null when the whole
      centre had no rating that month → left out, the other weights rescaled, score_note says so.
    - deductions: the sum of the window-month's points in int_scoring__window_deductions (0 when
      none); score = max(0, 100 × weighted − deductions), 2 decimals (the 考核细则 are 扣分制).
    - Eligible for ranking (and, v2, for stars: 不参评, 样本不足): ≥ min_completed_cases completions
      and a score.
    - Veto 一票否决: a confirmed private_handover flag that month or an OB_BACKFILL signal on a case
      accepted that month caps the stars at ★; the reason is stored. -#}
with base as (
    select * from {{ ref('int_scoring__window_month_base') }}
),

rates as (
    select
        base.*,
        {{ monthly_rates() }},
        sum(good_reviews) over (partition by center_id, month) as center_good_reviews,
        sum(evaluations) over (partition by center_id, month) as center_evaluations
    from base
),

adjusted as (
    select
        rates.*,
        case when center_evaluations > 0 then cast(center_good_reviews as {{ type_double() }}) / center_evaluations end
            as center_satisfaction_rate
    from rates
),

deductions as (
    select window_id, month, sum(points) as deductions
    from {{ ref('int_scoring__window_deductions') }}
    group by window_id, month
),

components as (
    select
        adjusted.*,
        cast(coalesce(deductions.deductions, 0) as {{ type_double() }}) as deductions,
        {{ score_components('center_satisfaction_rate') }}
    from adjusted
    left join deductions on deductions.window_id = adjusted.window_id and deductions.month = adjusted.month
),

scored as (
    select
        components.*,
        {{ window_score('deductions') }} as score,
        {{ score_note() }} as score_note,
        case
            when handover_flags_confirmed > 0 and backfill_cases > 0 then
                {{ dbt.concat(["'私下收件 private_handover flag confirmed: '", 'handover_flag_list',
                               "'; 补录 OB_BACKFILL on cases accepted this month: '", 'backfill_case_list']) }}
            when handover_flags_confirmed > 0 then
                {{ dbt.concat(["'私下收件 private_handover flag confirmed: '", 'handover_flag_list']) }}
            when backfill_cases > 0 then
                {{ dbt.concat(["'补录 OB_BACKFILL on cases accepted this month: '", 'backfill_case_list']) }}
        end as veto_reason,
        cases_completed >= {{ var('min_completed_cases') }} and component_t is not null as is_eligible
    from components
)

select
    scored.*,
    {{ star_rating('score', 'is_eligible') }} as stars_before_veto,
    case when veto_reason is not null and is_eligible then 1 else {{ star_rating('score', 'is_eligible') }} end as stars
from scored
