{#- 考勤 counts and the 在岗率 (docs/rules.md#attendance, SPEC v2 §4.10): one definition for the window-month
    (int_hall__attendance_window_month) and, from its sums, the department-month. -#}

{#- The day counts of a group of int_hall__attendance_window_day rows. -#}
{% macro attendance_day_counts() -%}
sum(case when is_scheduled then 1 else 0 end) as days_scheduled,
        sum(case when is_staffed then 1 else 0 end) as days_staffed,
        sum(case when is_covered then 1 else 0 end) as days_covered,
        sum(case when is_absent then 1 else 0 end) as absent_days,
        sum(late_arrivals) as late_arrivals,
        sum(early_leaves) as early_leaves
{%- endmacro %}

{#- The published month figures, in order, from a row of the counts above. -#}
{% macro attendance_month_figures() -%}
days_scheduled,
    days_staffed,
    days_covered,
    absent_days,
    {{ in_post_rate() }} as in_post_rate,
    late_arrivals,
    early_leaves
{%- endmacro %}

{#- in_post_rate 在岗率 = days_staffed / (days_scheduled − days_covered): covered days (leave 请假, business
    公务外出) are left out of the denominator; null when nothing is left. -#}
{% macro in_post_rate() -%}
case when days_scheduled - days_covered > 0
        then cast(days_staffed as {{ type_double() }}) / (days_scheduled - days_covered) end
{%- endmacro %}

{#- HH:MM of a TIME value, for the reasons a person reads (签到 08:47，开放 08:30). -#}
{% macro clock_text(time_expr) -%}
substring({{ as_text(time_expr) }}, 1, 5)
{%- endmacro %}
