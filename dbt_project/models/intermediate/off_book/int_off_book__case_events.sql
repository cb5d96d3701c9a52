{#- Every transaction event (≤ the as-of date) of an accepted case, with the case's window and
    department (those of its accept event, SPEC §4.2) next to the window the event happened at.
    The input of the accept/complete rules (OB_BACKFILL, OB_OFF_HOURS; SPEC §4.3). A view: at
    city scale (11.5 M events) writing it as a table took ~55 s, while its two readers filter it
    to accept/complete events before the join. -#}
{{ config(materialized='view') }}
with cases as (
    select case_id, window_id, department_id
    from {{ ref('int_cases__accepted') }}
),

events as (
    select event_id, case_id, event_type, event_time, recorded_at, window_id
    from {{ ref('int_cases__events') }}
)

select
    events.event_id,
    events.case_id,
    events.event_type,
    events.event_time,
    coalesce(events.recorded_at, events.event_time) as recorded_at,
    cast(events.event_time as date) as event_date,
    events.window_id as event_window_id,
    cases.window_id,
    cases.department_id
from events
inner join cases on cases.case_id = events.case_id
