{#- OB_HANDOVER 私下收件 (docs/rules.md#ob-handover): a confirmed `private_handover` video flag (flagged ≤ the as-of
    date) at the case's window on a day the case has an event at that window.
    One row per case; signal_date = the date of the first such flag. -#}
with flags as (
    select flag_id, window_id, flagged_at, cast(flagged_at as date) as flag_date
    from {{ ref('stg_landing__video_flags') }}
    where review_status = 'confirmed'
      and flag_type = 'private_handover'
      and cast(flagged_at as date) <= {{ as_of_date() }}
),

{#- The events on a flag's day at the flag's window first (few: flags are rare), then the cases
    whose own window that is: joining all events to their cases first would touch every event
    (materialized: else DuckDB reorders the joins and does exactly that).
    The events are found on the narrow columns (window, date), their event_id / case_id strings
    read for the hits only (macros/incremental/case_events.sql). -#}
{%- set all_events = ref('int_cases__events') %}
hits as {{ materialized_cte() }} (
    select events.event_rid
    from {{ case_events_narrow(all_events) }} as events
    where exists (
        select 1 from flags
        where flags.window_id = events.window_id and flags.flag_date = events.event_date
    )
),

events_at_flagged_windows as {{ materialized_cte() }} (
    select events.case_id, events.window_id, events.event_id, events.event_type, events.event_time, events.event_date
    from {{ case_events_fetch(all_events, 'hits') }} as events
),

events_at_case_window as (
    select
        events.case_id,
        cases.window_id,
        cases.department_id,
        events.event_id,
        events.event_type,
        events.event_time,
        events.event_date
    from events_at_flagged_windows as events
    inner join {{ ref('int_cases__accepted') }} as cases
        on cases.case_id = events.case_id
       and cases.window_id = events.window_id
),

per_flag as (
    select
        events.case_id,
        events.window_id,
        events.department_id,
        flags.flag_id,
        flags.flagged_at,
        flags.flag_date,
        {{ dbt.listagg(dbt.concat(['events.event_type', "' '", 'events.event_id', "' '", as_text('events.event_time')]),
                       "', '", 'order by events.event_time, events.event_id') }} as case_events
    from events_at_case_window as events
    inner join flags
        on flags.window_id = events.window_id
       and flags.flag_date = events.event_date
    group by events.case_id, events.window_id, events.department_id, flags.flag_id, flags.flagged_at, flags.flag_date
)

select
    case_id,
    'OB_HANDOVER' as rule_id,
    window_id,
    department_id,
    min(flag_date) as signal_date,
    {{ dbt.listagg(dbt.concat(["'video flag '", 'flag_id', "' private_handover confirmed '", as_text('flagged_at'),
                               "' at '", 'window_id', "'; case events that day: '", 'case_events']),
                   "' | '", 'order by flagged_at, flag_id') }} as evidence
from per_flag
group by case_id, window_id, department_id
