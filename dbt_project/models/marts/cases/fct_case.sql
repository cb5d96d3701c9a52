{#- One row per accepted case with its timeliness (int_cases__accepted; docs/rules.md#timeliness), the
    number of case-level off-book signals (int_off_book__case_signals; docs/rules.md#off-book) and of
    timeliness signals (int_timeliness__case_signals; docs/rules.md#timeliness-signals). -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ case_pre_hook(['references', 'calendar', 'card'], extra=case_as_of_dependent(this) ~ ' union ' ~ case_signals_changed(this, ref('int_off_book__case_signals')) ~ ' union ' ~ case_signals_changed(this, ref('int_timeliness__case_signals'), 'timeliness_signals')) }}",
    post_hook="{{ case_post_hook(['references', 'calendar', 'card'], update_as_of=true) }}",
) }}
{#- Incremental on DuckDB (macros/incremental/README.md): as int_cases__accepted, plus the cases
    whose number of off-book or timeliness signals changed. -#}
{%- set increment = case_increment(['references', 'calendar', 'card']) %}
with cases as (
    select * from {{ ref('int_cases__accepted') }}
    where {{ case_filter(increment, 'case_id') }}
),

signals as (
    select case_id, count(*) as off_book_signals
    from {{ ref('int_off_book__case_signals') }}
    where case_id is not null
      and {{ case_filter(increment, 'case_id') }}
    group by case_id
),

timeliness_signals as (
    select case_id, count(*) as timeliness_signals
    from {{ ref('int_timeliness__case_signals') }}
    where {{ case_filter(increment, 'case_id') }}
    group by case_id
)

select
    cases.case_id,
    cases.window_id,
    cases.department_id,
    cases.item_code,
    cases.item_kind,
    cases.status,
    cases.accepted_at,
    cases.completed_at,
    cases.limit_workdays,
    cases.paused_workdays,
    cases.deadline_at,
    cases.is_on_time,
    cases.overdue_workdays,
    cases.card,
    cases.is_same_day,
    cast(coalesce(signals.off_book_signals, 0) as {{ dbt.type_int() }}) as off_book_signals,
    cases.as_of_date,
    cases.center_id,
    cases.limit_unit,
    cases.limit_source,
    cases.extend_days,
    cases.deadline_date,
    cases.remaining_workdays,
    cases.uses_assumed_calendar,
    cases.clock_start_date,
    cases.legal_deadline_at,
    cases.is_legal_overdue,
    cast(coalesce(timeliness_signals.timeliness_signals, 0) as {{ dbt.type_int() }}) as timeliness_signals
from cases
left join signals on signals.case_id = cases.case_id
left join timeliness_signals on timeliness_signals.case_id = cases.case_id
