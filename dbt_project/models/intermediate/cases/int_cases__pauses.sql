{#- Pause intervals of accepted cases (docs/rules.md#pauses; 行政许可法 art. 45: 听证、检验、鉴定等 and the applicant's
    补正 time are not counted in the limit): suspend→resume and supplement_request→
    supplement_received. Each start is paired with the next end of its kind (an end at the same
    instant counts); starts that would share one end are one pause beginning at the first start;
    an end with no start is ignored. A pause with no end runs to the as-of date (or, once the case
    is completed, to its completion date: a finished case is no longer paused).
    paused_workdays = working days d with start_date < d ≤ end_date. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ case_pre_hook(['calendar'], extra='select case_id from ' ~ this ~ ' where is_open') }}",
    post_hook="{{ case_post_hook(['calendar']) }}",
) }}
{#- Incremental on DuckDB (macros/incremental/README.md): besides the cases whose events changed,
    every case with an open pause is rebuilt (it runs to the as-of date). -#}
{%- set increment = case_increment(['calendar']) %}
with cases as (
    select case_id, status, completed_date
    from {{ ref('int_cases__case_facts') }}
    where {{ case_filter(increment, 'case_id') }}
),

marks as (
    select
        events.case_id,
        events.event_id,
        events.event_time,
        case when events.event_type in ('suspend', 'resume') then 'suspend' else 'supplement' end as pause_kind,
        case when events.event_type in ('suspend', 'supplement_request') then 1 else 0 end as is_start
    from {{ ref('int_cases__events') }} as events
    inner join cases on cases.case_id = events.case_id
    where events.event_type in ('suspend', 'resume', 'supplement_request', 'supplement_received')
),

with_next_end as (
    select
        marks.*,
        min(case when is_start = 0 then event_time end) over (
            partition by case_id, pause_kind
            order by event_time, is_start desc, event_id
            rows between current row and unbounded following
        ) as next_end_at
    from marks
),

starts as (
    select
        case_id,
        pause_kind,
        event_id as start_event_id,
        event_time as started_at,
        next_end_at as ended_at,
        row_number() over (
            partition by case_id, pause_kind, next_end_at order by event_time, event_id
        ) as rank_for_end
    from with_next_end
    where is_start = 1
),

intervals as (
    select
        starts.case_id,
        starts.pause_kind,
        starts.start_event_id,
        starts.started_at,
        starts.ended_at,
        cast(starts.started_at as date) as start_date,
        case
            when starts.ended_at is not null then cast(starts.ended_at as date)
            when cases.status = 'completed' then least(cases.completed_date, {{ as_of_date() }})
            else {{ as_of_date() }}
        end as end_date,
        starts.ended_at is null as is_open
    from starts
    inner join cases on cases.case_id = starts.case_id
    where starts.rank_for_end = 1
),

calendar as (
    select date, workday_seq from {{ ref('int_calendar__days') }}
)

select
    intervals.case_id,
    intervals.pause_kind,
    intervals.start_event_id,
    intervals.started_at,
    intervals.ended_at,
    intervals.start_date,
    intervals.end_date,
    intervals.is_open,
    cast({{ workdays_between('start_day.workday_seq', 'end_day.workday_seq') }} as {{ dbt.type_int() }}) as paused_workdays
from intervals
left join calendar as start_day on start_day.date = intervals.start_date
left join calendar as end_day on end_day.date = intervals.end_date
