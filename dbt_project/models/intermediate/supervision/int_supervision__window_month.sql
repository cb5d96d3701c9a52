{#- 督办 figures per window and month (SPEC §4.11, §5; docs/rules.md#supervision-marts), the columns
    fct_window_month gains: a row for each window-month with at least one item opened, acknowledged on
    time or escalated (int_supervision__item_month); items of no window count nowhere here. -#}
{{ supervision_month_figures('window_id') }}
