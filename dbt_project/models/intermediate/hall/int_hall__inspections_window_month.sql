{#- Inspections 明察暗访 per window-month (SPEC v2 §4.10, docs/rules.md#inspections): the window-level
    records by inspected month, for the months the window has one (elsewhere no row).
    Figures: macros/hall_orders_inspections.sql (inspection_month_figures). -#}
{{ inspection_month_figures('window_id') }}
