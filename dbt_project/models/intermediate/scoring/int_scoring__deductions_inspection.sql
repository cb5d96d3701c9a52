{#- Deduction source 'inspection' 明察暗访 (SPEC v2 §4.6, docs/rules.md#deductions): an inspection
    record's own deduction points (int_hall__inspections; the centre's 考核细则 扣分制), window-level
    records only (a hall-wide check deducts from no window), in the inspected month. The reason names
    the method, the time and the finding in Chinese, and the inspector's note.
    Columns of every deduction source (int_scoring__window_deductions unions them); points > 0 only. -#}
with inspections as (
    select
        month,
        window_id,
        'inspection' as source,
        inspection_id as ref_id,
        cast(deduction as {{ type_double() }}) as points,
        {{ dbt.concat([
            inspection_method_zh('method'), "' '", as_text('inspected_at'),
            "'，发现：'", inspection_finding_zh('finding'),
            "coalesce(" ~ dbt.concat(["'；备注：'", 'note']) ~ ", '')"
        ]) }} as reason
    from {{ ref('int_hall__inspections') }}
    where window_id is not null
)

select month, window_id, source, ref_id, points, reason
from inspections
where points > 0
