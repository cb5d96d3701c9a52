{#- The transaction events a build sees (int_cases__events) and the narrow-pass reading of them the
    off-book rules use (README.md beside this file).

    int_cases__events is a view over int_cases__events_latest (11.6 M rows at city scale) with the
    filter below; its definition lives here, once, for the view and for the narrow pass.

    An off-book rule keeps a few hundred to a few thousand of those events. Reading them through
    the view scans every column the rule names for every row, the event_id / case_id strings
    included (0.74-1.42 CPU-s per rule at city scale). The narrow pass finds the hits on the narrow
    columns only (event_type, event_time, recorded_at, window_id) and returns their DuckDB rowids;
    the wide columns are then read for those rows only (0.31 CPU-s for the same 101 rows of
    OB_BACKFILL). A rule writes:
        hits as materialized (select events.event_rid from case_events_narrow(view) as events where ...)
        ... from case_events_fetch(view, 'hits') as events   -- the view's columns + event_rid
    where `view` is ref('int_cases__events') (the rule's declared input: lineage, unit tests).
    Only narrow columns may be named in the hits filter (naming event_id or case_id there is still
    correct, just not narrow).

    The rowid path is DuckDB-only and needs the stored table: on other targets (Spark) and in dbt
    unit tests (no `this`; their input is a fixture of the view) both macros read the view and
    event_rid is event_id (one row per event_id there). -#}

{#- the rows of int_cases__events: events with a time and a case, on or before the as-of date -#}
{% macro case_events_filter() -%}
    event_time is not null
    and case_id is not null
    and cast(event_time as date) <= {{ as_of_date() }}
{%- endmacro %}

{#- the columns of int_cases__events, computed from int_cases__events_latest -#}
{% macro case_events_columns() -%}
    event_id,
    case_id,
    event_type,
    event_time,
    cast(event_time as date) as event_date,
    coalesce(recorded_at, event_time) as recorded_at,
    window_id,
    staff_id,
    item_code,
    channel,
    extend_days,
    pause_reason,
    approval_mode
{%- endmacro %}

{% macro case_events_by_rowid() -%}
    {{ return(target.type == 'duckdb' and this is not none) }}
{%- endmacro %}

{#- read by name, not ref: upstream of the view every rule refs (case_increment.sql does the same) -#}
{% macro case_events_latest_relation() -%}
    {{ return(intermediate_relation('int_cases__events_latest')) }}
{%- endmacro %}

{#- the events of the view with event_rid; select narrow columns from it to find the hits -#}
{% macro case_events_narrow(events) -%}
    {%- if case_events_by_rowid() -%}
    (select rowid as event_rid, {{ case_events_columns() }}
     from {{ case_events_latest_relation() }}
     where {{ case_events_filter() }})
    {%- else -%}
    (select event_id as event_rid, * from {{ events }})
    {%- endif -%}
{%- endmacro %}

{#- the events of the view (all its columns, with event_rid) whose event_rid is in `hits` (a CTE name) -#}
{% macro case_events_fetch(events, hits) -%}
    {%- if case_events_by_rowid() -%}
    (select rowid as event_rid, {{ case_events_columns() }}
     from {{ case_events_latest_relation() }}
     where rowid in (select event_rid from {{ hits }}))
    {%- else -%}
    (select event_id as event_rid, * from {{ events }}
     where event_id in (select event_rid from {{ hits }}))
    {%- endif -%}
{%- endmacro %}
