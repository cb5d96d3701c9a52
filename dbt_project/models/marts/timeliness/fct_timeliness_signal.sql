{#- Every timeliness signal 时限合规 (docs/rules.md#timeliness-signals): one row per offending event or
    elapsed-time breach of a case; the same columns as fct_off_book_signal. -#}
select
    case_id,
    window_id,
    department_id,
    rule_id,
    signal_date,
    evidence
from {{ ref('int_timeliness__case_signals') }}
