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
    cast(timeliness_signal_cases as {{ dbt.type_bigint() }}) as timeliness_signal_cases
{%- endmacro %}
