{#- Deductions 扣分 per window and month, one row per deduction with its source and evidence
    (docs/rules.md#deductions; SPEC v2 §4.6). Their sum per window-month is fct_window_month.deductions.
    Only deductions with points > 0 are listed (a source configured at 0 points lists nothing).
    The rules live in int_scoring__window_deductions; this mart fixes the published columns. -#}
select
    cast(month as date) as month,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(source as {{ dbt.type_string() }}) as source,
    cast(ref_id as {{ dbt.type_string() }}) as ref_id,
    cast(points as double) as points,
    cast(reason as {{ dbt.type_string() }}) as reason
from {{ ref('int_scoring__window_deductions') }}
