{#- The monthly window scorecard and ranking (docs/rules.md#window-month): one row per window × month from the
    first data month through the as-of month, for windows open that month (or with activity).
    The rules live in int_scoring__window_month_{base,scored,ranked} and macros/scoring.sql;
    this mart only fixes the published columns and types, and adds the hall-operation and supervision
    figures of int_hall__window_month (SPEC v2 §4.10, §4.11; null where the feed behind a figure does
    not cover the window-month). -#}
select
    cast(ranked.month as date) as month,
    cast(ranked.window_id as {{ dbt.type_string() }}) as window_id,
    cast(department_id as {{ dbt.type_string() }}) as department_id,
    {{ monthly_indicator_columns() }},
    cast(score as double) as score,
    cast(stars as {{ dbt.type_int() }}) as stars,
    cast(rank as {{ dbt.type_bigint() }}) as rank,
    cast(is_eligible as boolean) as is_eligible,
    cast(is_red_flag as boolean) as is_red_flag,
    cast(is_bottom as boolean) as is_bottom,
    cast(veto_reason as {{ dbt.type_string() }}) as veto_reason,
    cast(center_id as {{ dbt.type_string() }}) as center_id,
    cast(component_t as double) as component_t,
    cast(component_s as double) as component_s,
    cast(component_d as double) as component_d,
    cast(component_i as double) as component_i,
    cast(component_r as double) as component_r,
    cast(center_satisfaction_rate as double) as center_satisfaction_rate,
    cast(rectification_late as {{ dbt.type_bigint() }}) as rectification_late,
    cast(stars_before_veto as {{ dbt.type_int() }}) as stars_before_veto,
    cast(eligible_windows as {{ dbt.type_bigint() }}) as eligible_windows,
    cast(uses_assumed_calendar as boolean) as uses_assumed_calendar,
    cast(deductions as double) as deductions,
    cast(score_note as {{ dbt.type_string() }}) as score_note,
    cast(is_bottom_repeat as boolean) as is_bottom_repeat,
    {{ hall_indicator_columns('hall') }},
    {{ as_of_date() }} as as_of_date
from {{ ref('int_scoring__window_month_ranked') }} as ranked
left join {{ ref('int_hall__window_month') }} as hall
    on hall.window_id = ranked.window_id and hall.month = ranked.month
