{#- Every off-book (体外循环) signal (docs/rules.md#off-book): the case-level rules, one row per case × rule,
    plus the department-month OB_VOLUME_GAP rows (case_id and window_id null). -#}
select
    case_id,
    window_id,
    department_id,
    rule_id,
    signal_date,
    evidence
from {{ ref('int_off_book__case_signals') }}

union all

select
    cast(null as {{ dbt.type_string() }}) as case_id,
    cast(null as {{ dbt.type_string() }}) as window_id,
    department_id,
    rule_id,
    signal_date,
    evidence
from {{ ref('int_off_book__volume_gap') }}
