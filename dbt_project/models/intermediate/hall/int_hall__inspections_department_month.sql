{#- Inspections 明察暗访 per department-month (SPEC v2 §4.10, docs/rules.md#inspections): the
    window-level records under their window's department on the month's first day
    (int_hall__inspections); a hall-wide check has no department. Figures:
    macros/hall_orders_inspections.sql (inspection_month_figures). -#}
{{ inspection_month_figures('department_id') }}
