{#- TL_STEP_OVERDUE 环节超时 (docs/rules.md#tl-step-overdue), one row per case × step over its limit.
    For each (from_event, to_event) of int_timeliness__step_limits for the case's item: from the
    case's first from_event to its first to_event after it, the working days wd(from_date, to_date]
    minus the counted paused working days inside (int_timeliness__pauses_counted: the working days
    of each counted pause that fall in (from_date, to_date]) exceed limit_workdays. A step with no
    to_event is measured to the as-of date while the case is open, and not at all once it is not.
    The centre's own supervision rule (环节时限, set per item); signal_date = the first working day
    past the limit. -#}
with cases as (
    select case_id, window_id, department_id, item_code, status
    from {{ ref('int_cases__case_facts') }}
),

steps as (
    select cases.case_id, cases.window_id, cases.department_id, cases.status,
           limits.from_event, limits.to_event, limits.limit_workdays
    from cases
    inner join {{ ref('int_timeliness__step_limits') }} as limits on limits.item_code = cases.item_code
),

events as (
    select case_id, event_id, event_type, event_time, event_date
    from {{ ref('int_cases__events') }}
    where case_id in (select case_id from steps)
),

started as (
    select steps.*, min(events.event_time) as from_time
    from steps
    inner join events on events.case_id = steps.case_id and events.event_type = steps.from_event
    group by steps.case_id, steps.window_id, steps.department_id, steps.status,
             steps.from_event, steps.to_event, steps.limit_workdays
),

ended as (
    select
        started.case_id, started.window_id, started.department_id, started.status,
        started.from_event, started.to_event, started.limit_workdays, started.from_time,
        min(events.event_time) as to_time
    from started
    left join events
        on events.case_id = started.case_id
        and events.event_type = started.to_event
        and events.event_time > started.from_time
    group by started.case_id, started.window_id, started.department_id, started.status,
             started.from_event, started.to_event, started.limit_workdays, started.from_time
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
