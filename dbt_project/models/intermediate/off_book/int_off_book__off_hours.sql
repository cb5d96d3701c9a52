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
    optional feed never delivered exempts nothing. -#}
{%- set all_events = ref('int_cases__events') %}
with events as (
    select event_rid, event_type, event_time, event_date, window_id as event_window_id
    from {{ case_events_narrow(all_events) }} as events
    where event_type in ('accept', 'complete')
),

days as (
    select date, is_workday
    from {{ ref('int_calendar__days') }}
),

classified as (
    select
        events.*,
        case when days.is_workday then 'workday' else 'non_workday' end as day_kind,
        {{ time_of_day('events.event_time') }} as event_clock
    from events
    left join days on days.date = events.event_date
),

with_hours as (
    select
        classified.*,
        case
            when hours.window_id is not null then hours.open_time
            when classified.day_kind = 'workday' then {{ time_literal(var('default_workday_open')) }}
            else {{ time_literal(var('default_non_workday_open')) }}
        end as open_time,
        case
            when hours.window_id is not null then hours.close_time
            when classified.day_kind = 'workday' then {{ time_literal(var('default_workday_close')) }}
            else {{ time_literal(var('default_non_workday_close')) }}
        end as close_time
    from classified
    left join {{ ref('int_reference__hall_hours') }} as hours
        on hours.window_id = classified.event_window_id and hours.day_kind = classified.day_kind
),

extended as (
    select window_id, service_date, max(until_time) as until_time
    from {{ ref('stg_landing__extended_service') }}
    where until_time is not null
    group by window_id, service_date
),

outside as {{ materialized_cte() }} (
    select with_hours.event_rid, with_hours.event_window_id, with_hours.day_kind, with_hours.open_time, with_hours.close_time
    from with_hours
    left join extended
        on extended.window_id = with_hours.event_window_id and extended.service_date = with_hours.event_date
    where (with_hours.open_time is null
           or with_hours.close_time is null
           or with_hours.event_clock < with_hours.open_time
           or with_hours.event_clock > with_hours.close_time)
      and not coalesce(with_hours.event_clock <= extended.until_time, false)
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
