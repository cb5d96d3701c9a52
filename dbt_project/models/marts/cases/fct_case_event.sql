{#- Every event of every accepted case (docs/rules.md#case: a case without `accept` is not a case), as of
    the build date — the case timeline of the dashboards. No applicant columns (privacy: the
    dashboards never need them). recorded_gap_hours = recorded_at − event_time in hours, the
    quantity OB_BACKFILL 补录 tests (> backfill_hours on accept/complete).
    A view over the one stored copy of the events (int_cases__events_latest, through the as-of
    filter of int_cases__events): writing the 11.6 M city events a second time as a table cost
    more than the rest of the case models together, and its readers (the case timeline of one
    case, the published snapshot, which copies the whole database file) read it through the view.
    Its columns are checked where they are stored (int_cases__events_latest__column_checks:
    event_id unique, event_type accepted; a filter of that table keeps both). -#}
{{ config(materialized='view') }}
with events as (
    select * from {{ ref('int_cases__events') }}
),

cases as (
    select case_id from {{ ref('int_cases__accepted') }}
)

select
    cast(events.event_id as {{ dbt.type_string() }}) as event_id,
    cast(events.case_id as {{ dbt.type_string() }}) as case_id,
    cast(events.event_type as {{ dbt.type_string() }}) as event_type,
    cast(events.event_time as {{ dbt.type_timestamp() }}) as event_time,
    cast(events.recorded_at as {{ dbt.type_timestamp() }}) as recorded_at,
    cast({{ seconds_between('events.event_time', 'events.recorded_at') }} as {{ type_double() }}) / 3600.0
        as recorded_gap_hours,
    cast(events.window_id as {{ dbt.type_string() }}) as window_id,
    cast(events.staff_id as {{ dbt.type_string() }}) as staff_id,
    cast(events.item_code as {{ dbt.type_string() }}) as item_code,
    cast(events.channel as {{ dbt.type_string() }}) as channel,
    cast(events.extend_days as {{ dbt.type_bigint() }}) as extend_days
from events
where events.case_id in (select cases.case_id from cases)
