{#- The indicator columns that fct_window_month and fct_department_month both publish (docs/rules.md#department-month),
    cast to their contract types in one place so the two marts cannot drift apart. -#}
{% macro monthly_indicator_columns() -%}
    cast(cases_accepted as {{ dbt.type_bigint() }}) as cases_accepted,
    cast(cases_completed as {{ dbt.type_bigint() }}) as cases_completed,
    cast(on_time_rate as double) as on_time_rate,
    cast(same_day_rate as double) as same_day_rate,
    cast(immediate_on_time_rate as double) as immediate_on_time_rate,
    cast(off_book_cases as {{ dbt.type_bigint() }}) as off_book_cases,
    cast(off_book_rate as double) as off_book_rate,
    cast(evaluations as {{ dbt.type_bigint() }}) as evaluations,
    cast(good_reviews as {{ dbt.type_bigint() }}) as good_reviews,
    cast(bad_reviews as {{ dbt.type_bigint() }}) as bad_reviews,
    cast(satisfaction_rate as double) as satisfaction_rate,
    cast(adjusted_satisfaction as double) as adjusted_satisfaction,
    cast(rectification_due as {{ dbt.type_bigint() }}) as rectification_due,
    cast(rectification_rate as double) as rectification_rate,
    cast(evaluation_rate as double) as evaluation_rate,
    cast(video_flags_confirmed as {{ dbt.type_bigint() }}) as video_flags_confirmed,
    cast(handover_flags_confirmed as {{ dbt.type_bigint() }}) as handover_flags_confirmed,
    cast(video_flags_pending as {{ dbt.type_bigint() }}) as video_flags_pending,
    cast(legal_overdue_cases as {{ dbt.type_bigint() }}) as legal_overdue_cases,
    cast(timeliness_signal_cases as {{ dbt.type_bigint() }}) as timeliness_signal_cases,
    cast(default_ratings as {{ dbt.type_bigint() }}) as default_ratings,
    cast(active_evaluation_rate as double) as active_evaluation_rate,
    cast(appeals_overturned as {{ dbt.type_bigint() }}) as appeals_overturned,
    cast(verification_rate as double) as verification_rate,
    cast(callback_rate as double) as callback_rate
{%- endmacro %}

{#- The hall-operation and supervision columns (SPEC v2 §4.10, §4.11, §5) that fct_window_month and
    fct_department_month both publish, from int_hall__window_month / int_hall__department_month
    joined as `hall`: null where the feed behind a figure does not cover the row; the supervision
    counts 0 where no item was opened. -#}
{% macro hall_indicator_columns(hall='hall') -%}
    cast({{ hall }}.days_scheduled as {{ dbt.type_bigint() }}) as days_scheduled,
    cast({{ hall }}.days_staffed as {{ dbt.type_bigint() }}) as days_staffed,
    cast({{ hall }}.days_covered as {{ dbt.type_bigint() }}) as days_covered,
    cast({{ hall }}.in_post_rate as double) as in_post_rate,
    cast({{ hall }}.absent_days as {{ dbt.type_bigint() }}) as absent_days,
    cast({{ hall }}.late_arrivals as {{ dbt.type_bigint() }}) as late_arrivals,
    cast({{ hall }}.early_leaves as {{ dbt.type_bigint() }}) as early_leaves,
    cast({{ hall }}.avg_wait_minutes as double) as avg_wait_minutes,
    cast({{ hall }}.p90_wait_minutes as double) as p90_wait_minutes,
    cast({{ hall }}.substantiated_complaints as {{ dbt.type_bigint() }}) as substantiated_complaints,
    cast({{ hall }}.work_orders_closed_on_time_rate as double) as work_orders_closed_on_time_rate,
    cast({{ hall }}.inspection_findings as {{ dbt.type_bigint() }}) as inspection_findings,
    cast(coalesce({{ hall }}.supervision_items_opened, 0) as {{ dbt.type_bigint() }}) as supervision_items_opened,
    cast(coalesce({{ hall }}.supervision_acknowledged_on_time, 0) as {{ dbt.type_bigint() }}) as supervision_acknowledged_on_time,
    cast(coalesce({{ hall }}.supervision_escalated, 0) as {{ dbt.type_bigint() }}) as supervision_escalated
{%- endmacro %}
