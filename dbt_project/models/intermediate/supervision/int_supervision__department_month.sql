{#- 督办 figures per department and month (SPEC §4.11, §5; docs/rules.md#supervision-marts), the columns
    fct_department_month gains and the figures stats.monthly_by_department shows on the 督办 page:
    by the item's own department_id (the department that answers for it), whatever its window. -#}
{{ supervision_month_figures('department_id') }}
