{#- TL_STEP_OVERDUE 环节超时 (docs/rules.md#tl-step-overdue), one row per case × step over its limit.
    For each (from_event, to_event) of int_timeliness__step_limits for the case's item: from the
    case's first from_event to its first to_event after it, the working days wd(from_date, to_date]
    minus the counted paused working days inside (int_timeliness__pauses_counted: the working days
    of each counted pause that fall in (from_date, to_date]) exceed limit_workdays. A step with no
    to_event is measured to the as-of date while the case is open, and not at all once it is not.
    The centre's own supervision rule (环节时限, set per item); signal_date = the first working day
    past the limit. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ case_pre_hook(['references', 'calendar', 'card', 'step_limits'], extra=case_not_completed()) }}",
    post_hook="{{ case_post_hook(['references', 'calendar', 'card', 'step_limits']) }}",
) }}
{#- Incremental on DuckDB (performance, issue 23; macros/incremental/README.md): a daily build
    recomputes the cases whose events changed and every case not completed (an open step runs to
    the as-of date); the limits, calendar, references and counted-clock vars it reads are its
    fingerprint. -#}
{%- set increment = case_increment(['references', 'calendar', 'card', 'step_limits']) %}
with limits as (
    select item_code, from_event, to_event, limit_workdays
    from {{ ref('int_timeliness__step_limits') }}
),

{#- Performance (issue 23): only the event types a step starts or ends with are read (at city scale
    three of the twelve types), and the first from_event of a case is one aggregate over them, so
    no case × step row is built for a case that never reached its step's from_event. -#}
step_events as (
    select case_id, event_type, event_time
    from {{ ref('int_cases__events') }}
    where event_type in (select from_event from limits union select to_event from limits)
      and {{ case_filter(increment, 'case_id') }}
),

first_events as (
    select case_id, event_type, min(event_time) as first_time
    from step_events
    where event_type in (select from_event from limits)
    group by case_id, event_type
),

started as (
    select cases.case_id, cases.window_id, cases.department_id, cases.status,
           limits.from_event, limits.to_event, limits.limit_workdays, first_events.first_time as from_time
    from {{ ref('int_cases__case_facts') }} as cases
    inner join limits on limits.item_code = cases.item_code
        and {{ case_filter(increment, 'cases.case_id') }}
    inner join first_events on first_events.case_id = cases.case_id and first_events.event_type = limits.from_event
),

ended_at as (
    select started.case_id, started.from_event, started.to_event, min(step_events.event_time) as to_time
    from started
    inner join step_events
        on step_events.case_id = started.case_id
        and step_events.event_type = started.to_event
        and step_events.event_time > started.from_time
    group by started.case_id, started.from_event, started.to_event
),

ended as (
    select started.*, ended_at.to_time
    from started
    left join ended_at
        on ended_at.case_id = started.case_id
        and ended_at.from_event = started.from_event
        and ended_at.to_event = started.to_event
),

measured as (
    select
        ended.*,
        cast(from_time as date) as from_date,
        case when to_time is not null then cast(to_time as date) else {{ as_of_date() }} end as to_date
    from ended
    where to_time is not null or status = 'open'
),

calendar as (
    select date, is_workday, workday_seq from {{ ref('int_calendar__days') }}
),

paused_inside as (
    select
        measured.case_id,
        measured.from_event,
        measured.to_event,
        sum({{ workdays_between('overlap_start.workday_seq', 'overlap_end.workday_seq') }}) as paused_workdays
    from measured
    inner join {{ ref('int_timeliness__pauses_counted') }} as pauses
        on pauses.case_id = measured.case_id and pauses.is_counted
    left join calendar as overlap_start
        on overlap_start.date = greatest(pauses.start_date, measured.from_date)
    left join calendar as overlap_end
        on overlap_end.date = least(pauses.end_date, measured.to_date)
    group by measured.case_id, measured.from_event, measured.to_event
),

elapsed as (
    select
        measured.*,
        from_day.workday_seq as from_seq,
        coalesce(paused_inside.paused_workdays, 0) as paused_workdays,
        {{ workdays_between('from_day.workday_seq', 'to_day.workday_seq') }} - coalesce(paused_inside.paused_workdays, 0) as step_workdays
    from measured
    left join paused_inside
        on paused_inside.case_id = measured.case_id
        and paused_inside.from_event = measured.from_event
        and paused_inside.to_event = measured.to_event
    left join calendar as from_day on from_day.date = measured.from_date
    left join calendar as to_day on to_day.date = measured.to_date
),

fired as (
    select elapsed.*
    from elapsed
    where step_workdays > limit_workdays
)

select
    fired.case_id,
    fired.window_id,
    fired.department_id,
    'TL_STEP_OVERDUE' as rule_id,
    coalesce(breach_day.date, fired.to_date) as signal_date,
    {{ dbt.concat([
        "'step='", 'fired.from_event', "'>'", 'fired.to_event',
        "' from='", as_text('fired.from_date'),
        "case when fired.to_time is null then ' open as_of=' else ' to=' end", as_text('fired.to_date'),
        "' workdays='", as_text('fired.step_workdays'),
        "' paused='", as_text('fired.paused_workdays'),
        "' limit='", as_text('fired.limit_workdays')
    ]) }} as evidence
from fired
{{ join_nth_workday_after('calendar', 'breach_day', 'fired.from_seq', 'fired.limit_workdays + fired.paused_workdays + 1') }}
