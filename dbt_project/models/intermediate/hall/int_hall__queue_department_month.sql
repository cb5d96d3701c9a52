{#- 排队叫号 per department-month (SPEC v2 §4.10 Queue; docs/rules.md#queue), the interface fct_department_month
    joins: the tickets called by the department's windows (a window's department on the month's first day),
    computed from the tickets themselves - the p90 and averages of all the department's waits, never an
    average of window figures. One row per department and month with at least one such ticket.
    Figures: macros/hall_queue.sql (queue_month_figures). -#}
{{ queue_month_rows('department_id') }}
