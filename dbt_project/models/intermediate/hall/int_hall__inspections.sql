{#- 明察暗访 / 一日三查 inspection records (SPEC v2 §4.10, docs/rules.md#inspections): one row per
    inspection_id inspected on or before the as-of date.

    - center_id: the record's own, else its window's centre; department_id: its window's department;
      both from the window version in force on the first day of the inspected month
      (int_reference__window_versions, docs/rules.md#reference-versions), the version the
      department-month figures read. A hall-wide check (window_id null) has no department: it is in
      its centre's figures (fct_spot_check_day) and in no window or department figure, and never a
      window deduction.
    - has_finding: finding other than none (a record without a finding is no finding).
    - deduction: the record's own points (扣分, ≥ 0 by the feed contract). -#}
with inspections as (
    select
        *,
        cast({{ dbt.date_trunc('month', 'inspected_at') }} as date) as month
    from {{ ref('stg_landing__inspections') }}
    where cast(inspected_at as date) <= {{ as_of_date() }}
)

select
    inspections.inspection_id,
    inspections.inspector_id,
    coalesce(inspections.center_id, window_version.center_id) as center_id,
    inspections.window_id,
    window_version.department_id,
    inspections.inspected_at,
    cast(inspections.inspected_at as date) as inspected_date,
    inspections.month,
    inspections.method,
    inspections.finding,
    coalesce(inspections.finding <> 'none', false) as has_finding,
    inspections.deduction,
    inspections.note,
    inspections.recorded_at
from inspections
left join {{ ref('int_reference__window_versions') }} as window_version
    on window_version.window_id = inspections.window_id
    and {{ version_in_force('window_version', 'inspections.month') }}
