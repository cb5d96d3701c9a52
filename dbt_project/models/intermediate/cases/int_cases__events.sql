{#- Every transaction event that happened on or before the as-of date (the build is as of a date:
    later events are ignored), with its date. Reads the incremental int_cases__events_latest (one
    row per event_id, deduplicated like stg_landing__transactions); the as-of filter lives here,
    in a model rebuilt every run. A view: at city scale, writing its 11.5 M rows as a table cost
    30 s, while its readers scan the table below with the filter pushed down. Its columns and
    filter are macros (macros/incremental/case_events.sql), shared with the off-book rules' narrow pass. -#}
{{ config(materialized='view') }}
{#- every reader of the events runs after the touched-case bookkeeping of this run
    (the incremental case models read it by name: macros/incremental/case_increment.sql) -#}
-- depends_on: {{ ref('int_cases__touched') }}
select
    {{ case_events_columns() }}
from {{ ref('int_cases__events_latest') }}
where {{ case_events_filter() }}
