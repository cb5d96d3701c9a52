{#- TL_LEGAL_OVERDUE 超法定时限 (docs/rules.md#tl-legal-overdue), one row per case past its legal
    deadline (int_cases__accepted: the deadline with the item's legal_limit instead of the promised
    one, the same clock start, counted pauses and extension): completed after it, or open past it
    at the as-of date. 行政许可法 art. 42 (the statutory limit), art. 45 (what it leaves out).
    Such a case is 法定超时, a severity above a red card; signal_date = the first working day past
    the legal deadline. -#}
select
    case_id,
    window_id,
    department_id,
    'TL_LEGAL_OVERDUE' as rule_id,
    cast(coalesce(legal_overdue_date, {{ add_days('1', 'legal_deadline_date') }}) as date) as signal_date,
    {{ dbt.concat([
        "'legal_limit='", as_text('legal_limit_workdays'),
        "' clock_start='", as_text('clock_start_date'),
        "' legal_deadline='", as_text('legal_deadline_date'),
        "case when status = 'completed' then ' completed=' else ' open as_of=' end",
        "case when status = 'completed' then " ~ as_text('completed_at') ~ " else " ~ as_text('as_of_date') ~ " end"
    ]) }} as evidence
from {{ ref('int_cases__accepted') }}
where is_legal_overdue
