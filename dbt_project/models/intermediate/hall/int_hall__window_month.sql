{#- The hall-operation and supervision figures of a window-month (SPEC v2 §4.10, §4.11, §5;
    docs/rules.md#hall-month): the per-feed window-month models joined (macros/hall_month.sql);
    fct_window_month publishes them. -#}
{{ hall_month_figures('window') }}
