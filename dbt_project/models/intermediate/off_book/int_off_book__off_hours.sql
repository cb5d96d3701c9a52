{#- OB_OFF_HOURS 非工作时间 (docs/rules.md#ob-off-hours): an accept or complete event outside the opening hours of
    the window it happened at (int_reference__hall_hours) for the kind of day it fell on
    (working / non-working per int_calendar__days): time < open or time > close, or that day kind
    has no hours. Exactly the opening or closing time is inside. An event at a window unknown to
    the windows feed gets the default hours. signal_date = the date of the first offending event.
    The events (≤ the as-of date) are classified and filtered before they meet the cases (a few
    hundred of 11.6 M at city scale; materialized so the optimizer keeps that order); the case
    gives the window and department of its accept event (docs/rules.md#case). The hits are found on the
    narrow columns (type, time, window), the event_id / case_id strings read for the hits only
    (macros/incremental/case_events.sql).
    Exemption (docs/rules.md#ob-off-hours): an event on a day with an `extended_service` row (延时服务,
    事不办完不下班) for its window, at or before that row's until_time, is inside the window's hours; the
    optional feed never delivered exempts nothing. The hours and the exemption are
    macros/hall_hours.sql, shared with RI_OFF_HOURS. -#}
{%- set all_events = ref('int_cases__events') %}
with events as (
    select event_rid, event_type, event_time, event_date, window_id as event_window_id
    from {{ case_events_narrow(all_events) }} as events
    where event_type in ('accept', 'complete')
),

{#- the hall-hours test itself is shared with RI_OFF_HOURS (macros/hall_hours.sql) #}
outside as {{ materialized_cte() }} (
    select outside.event_rid, outside.event_window_id, outside.day_kind, outside.open_time, outside.close_time
    from {{ outside_hall_hours('events', 'event_window_id', 'event_time', 'event_date') }} as outside
),

fired as {{ materialized_cte() }} (
    select
        hit.case_id,
        hit.event_id,
        hit.event_time,
        hit.event_date,
        {{ dbt.concat([
            'hit.event_type', "' '", 'hit.event_id', "' '", as_text('hit.event_time'), "' at '", 'outside.event_window_id',
            "' ('", 'outside.day_kind', "' '",
            "case when outside.open_time is null or outside.close_time is null then 'closed' else "
                ~ dbt.concat([as_text('outside.open_time'), "'–'", as_text('outside.close_time')]) ~ " end",
            "')'"
        ]) }} as evidence_part
    from outside
    inner join {{ case_events_fetch(all_events, 'outside') }} as hit on hit.event_rid = outside.event_rid
)

select
    fired.case_id,
    'OB_OFF_HOURS' as rule_id,
    cases.window_id,
    cases.department_id,
    min(fired.event_date) as signal_date,
    {{ dbt.listagg('fired.evidence_part', "'; '", 'order by fired.event_time, fired.event_id') }} as evidence
from fired
inner join {{ ref('int_cases__accepted') }} as cases on cases.case_id = fired.case_id
group by fired.case_id, cases.window_id, cases.department_id
