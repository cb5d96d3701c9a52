{#- Work orders 12345 / 办不成事 per window-month (SPEC v2 §4.10, docs/rules.md#work-orders): the orders
    with a window, for the months an order of the window was received or falls due (elsewhere no row:
    the lead's marts show null). The figures are macros/hall_orders_inspections.sql
    (work_order_month_figures), the per-order rules int_hall__work_orders. -#}
{{ work_order_month_figures('window_id') }}
