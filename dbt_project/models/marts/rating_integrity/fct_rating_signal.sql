{#- Every rating-integrity signal 评价真实性 (SPEC §4.9, docs/rules.md#rating-integrity): one row per rating
    of RI_BURST, RI_NO_SERVICE, RI_OFF_HOURS, and one per window-month of RI_TOO_PERFECT (evaluation_id
    null), from int_rating_integrity__signals. department_id: the window's version in force on the
    month's first day, as the window-month figures. Shown to inspectors; scored only when the scoring file's deduct_rating_signal > 0
    (fct_window_deduction). -#}
with signals as (
    select * from {{ ref('int_rating_integrity__signals') }}
)

select
    signals.evaluation_id,
    signals.window_id,
    windows.department_id,
    signals.month,
    signals.rule_id,
    signals.signal_date,
    signals.evidence
from signals
left join {{ ref('int_reference__window_versions') }} as windows
    on windows.window_id = signals.window_id and {{ version_in_force('windows', 'signals.month') }}
