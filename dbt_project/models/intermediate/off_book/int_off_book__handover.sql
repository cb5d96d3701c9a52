{#- OB_HANDOVER 私下收件 (docs/rules.md#ob-handover): a confirmed `private_handover` video flag (flagged ≤ the as-of
    date) at the case's window, and the case has an event at that window within ± `handover_minutes` (60) of
    flagged_at, both ends included. v1 took the whole day, which tainted every case of that day at the window
    (SPEC §4.3 v2): a window chief could rightly contest all but the one handed over.
    One row per case; signal_date = the date of the first such flag. -#}
with flags as (
    select flag_id, window_id, flagged_at, cast(flagged_at as date) as flag_date
    from {{ ref('stg_landing__video_flags') }}
    where review_status = 'confirmed'
      and flag_type = 'private_handover'
      and cast(flagged_at as date) <= {{ as_of_date() }}
),

{#- The events at the flag's window on the flag's day or the days beside it first (few: flags are rare;
    ± handover_minutes can cross midnight), then the exact time window and the cases
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
        where flags.window_id = events.window_id
          and events.event_date between {{ add_days(-1, 'flags.flag_date') }} and {{ add_days(1, 'flags.flag_date') }}
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
       and abs({{ micros_between('flags.flagged_at', 'events.event_time') }}) <= {{ var('handover_minutes') }} * 60000000.0
    group by events.case_id, events.window_id, events.department_id, flags.flag_id, flags.flagged_at, flags.flag_date
)

select
    case_id,
    'OB_HANDOVER' as rule_id,
    window_id,
    department_id,
    min(flag_date) as signal_date,
    {{ dbt.listagg(dbt.concat(["'video flag '", 'flag_id', "' private_handover confirmed '", as_text('flagged_at'),
                               "' at '", 'window_id', "'; case events within '",
                               as_text(var('handover_minutes')), "' min: '", 'case_events']),
                   "' | '", 'order by flagged_at, flag_id') }} as evidence
from per_flag
group by case_id, window_id, department_id
