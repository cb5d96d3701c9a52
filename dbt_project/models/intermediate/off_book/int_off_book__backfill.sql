{#- OB_BACKFILL 补录 (docs/rules.md#ob-backfill): an accept or complete event recorded more than `backfill_hours`
    after it happened (recorded_at − event_time > threshold; exactly the threshold does not fire).
    One row per case; signal_date = the date of the first offending event.
    The events (≤ the as-of date) are filtered before they meet the cases (a few hundred of 11.6 M
    at city scale; materialized so the optimizer keeps that order): the hits are found on the narrow
    columns, the event_id / case_id strings read for the hits only (macros/incremental/case_events.sql). -#}
{%- set events = ref('int_cases__events') %}
with hits as {{ materialized_cte() }} (
    select events.event_rid
    from {{ case_events_narrow(events) }} as events
    where events.event_type in ('accept', 'complete')
      and {{ micros_between('events.event_time', 'events.recorded_at') }} > {{ var('backfill_hours') }} * 3600000000.0
),

offending as {{ materialized_cte() }} (
    select
        event_id,
        case_id,
        event_type,
        event_time,
        event_date,
        recorded_at,
        {{ micros_between('event_time', 'recorded_at') }} as lag_us
    from {{ case_events_fetch(events, 'hits') }} as events
),

{#- the case's window and department: those of its accept event (docs/rules.md#case) -#}
fired as (
    select
        offending.case_id,
        cases.window_id,
        cases.department_id,
        offending.event_id,
        offending.event_time,
        offending.event_date,
        {{ dbt.concat([
            'offending.event_type', "' '", 'offending.event_id', "' '", as_text('offending.event_time'),
            "' 录入 '", as_text('offending.recorded_at'),
            "' (+'", as_text('round(offending.lag_us / 3600000000.0, 1)'), "' h)'"
        ]) }} as evidence_part
    from offending
    inner join {{ ref('int_cases__accepted') }} as cases on cases.case_id = offending.case_id
)

select
    case_id,
    'OB_BACKFILL' as rule_id,
    window_id,
    department_id,
    min(event_date) as signal_date,
    {{ dbt.listagg('evidence_part', "'; '", 'order by event_time, event_id') }} as evidence
from fired
group by case_id, window_id, department_id
