{#- The hall-operation and supervision figures of a department-month (SPEC v2 §4.10, §4.11, §5;
    docs/rules.md#hall-month): the per-feed department-month models joined (macros/hall_month.sql, from the
    department-month models, not sums of window rates); fct_department_month publishes them. -#}
{{ hall_month_figures('department') }}
