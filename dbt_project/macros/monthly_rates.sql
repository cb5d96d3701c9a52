{#- The seven monthly rates (and the three v2 好差评 rates below) (docs/rules.md#monthly-rates) from a row of month counts (window or department):
    null when the denominator is 0, except rectification_rate (1.0 when nothing was due).
    on_time_rate and immediate_on_time_rate count only completions with an on-time verdict
    (timed_completed). One definition for int_scoring__window_month_scored and fct_department_month. -#}
{% macro monthly_rates() -%}
case when timed_completed > 0 then cast(on_time_cases as {{ type_double() }}) / timed_completed end as on_time_rate,
        case when cases_completed > 0 then cast(same_day_cases as {{ type_double() }}) / cases_completed end as same_day_rate,
        case when immediate_completed > 0 then cast(immediate_on_time as {{ type_double() }}) / immediate_completed end as immediate_on_time_rate,
        case when cases_accepted > 0 then cast(off_book_cases as {{ type_double() }}) / cases_accepted end as off_book_rate,
        case when evaluations > 0 then cast(good_reviews as {{ type_double() }}) / evaluations end as satisfaction_rate,
        case when rectification_due > 0 then cast(rectified_on_time as {{ type_double() }}) / rectification_due else 1.0 end as rectification_rate,
        case when cases_completed > 0 then cast(evaluated_cases as {{ type_double() }}) / cases_completed end as evaluation_rate,
        {{ monthly_satisfaction_v2_rates() }}
{%- endmacro %}

{#- v2 好差评 rates (docs/rules.md#verification, #callback, #active-evaluation-rate): active_evaluation_rate
    null without completions; verification_rate and callback_rate 1.0 when nothing was due. -#}
{% macro monthly_satisfaction_v2_rates() -%}
case when cases_completed > 0 then cast(actively_evaluated_cases as {{ type_double() }}) / cases_completed end as active_evaluation_rate,
        case when verification_due > 0 then cast(verified_on_time as {{ type_double() }}) / verification_due else 1.0 end as verification_rate,
        case when callback_due > 0 then cast(called_back_on_time as {{ type_double() }}) / callback_due else 1.0 end as callback_rate
{%- endmacro %}
