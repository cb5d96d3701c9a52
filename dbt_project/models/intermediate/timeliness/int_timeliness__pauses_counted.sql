{#- Every pause of int_cases__pauses with whether it counts in the limit and why
    (docs/rules.md#pauses): a supplement pause as its first notice says (int_timeliness__notices:
    TL_LATE_NOTICE, TL_REPEAT_NOTICE), a suspend pause as its first suspend says
    (int_timeliness__pause_reasons: TL_PAUSE_REASON, TL_PAUSE_NO_REASON); rule_id is the rule that
    decided (null: an ordinary counted pause). -#}
select
    pauses.case_id,
    pauses.pause_kind,
    pauses.start_event_id,
    pauses.start_date,
    pauses.end_date,
    pauses.is_open,
    pauses.paused_workdays,
    coalesce(notices.is_counted, reasons.is_counted, true) as is_counted,
    coalesce(notices.rule_id, reasons.rule_id) as rule_id
from {{ ref('int_cases__pauses') }} as pauses
left join {{ ref('int_timeliness__notices') }} as notices
    on pauses.pause_kind = 'supplement' and notices.event_id = pauses.start_event_id
left join {{ ref('int_timeliness__pause_reasons') }} as reasons
    on pauses.pause_kind = 'suspend' and reasons.event_id = pauses.start_event_id
