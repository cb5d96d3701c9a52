{#- 排队叫号 per window-month (SPEC v2 §4.10 Queue; docs/rules.md#queue), the interface fct_window_month joins:
    one row per window and month in which the window called at least one ticket (the feed covers that
    window-month; elsewhere no row, so the figures stay null). A ticket counts at the window that called
    it, in the month it was issued. Figures: macros/hall_queue.sql (queue_month_figures). -#}
{{ queue_month_rows('window_id') }}
