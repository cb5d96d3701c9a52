{#- Work orders 12345 / 办不成事 per department-month (SPEC v2 §4.10, docs/rules.md#work-orders): the
    order's department (its own, else its window's on the received date: int_hall__work_orders),
    computed from the orders (not averaged window rates), for the months an order of the department
    was received or falls due. Figures: macros/hall_orders_inspections.sql (work_order_month_figures). -#}
{{ work_order_month_figures('department_id') }}
