{#- Timeliness of every accepted case as of the as-of date, one row per case — the shared base of
    fct_case and the off-book rules. Each rule is in docs/rules.md (anchors below); the working-day
    arithmetic is macros/calendar.sql.
    - limit (#limit): N = the item's limit (promised, else legal) + Σ extend_days (行政许可法 art. 42
      延期) + paused working days (行政许可法 art. 45, int_cases__pauses).
    - deadline (#deadline): the acceptance day is not counted (民法典 art. 201); workday items end on
      the N-th working day after the acceptance date; calendar_day items on the N-th calendar day
      after it, moved to the next working day when it is not one (民法典 art. 203); N = 0 (即办): the
      acceptance day. deadline_at is the end (23:59:59) of that day.
    - on time (#on-time): complete time ≤ deadline; overdue_workdays (#overdue) = working days d with
      deadline_date < d ≤ completion date (as-of date while open).
    - card (#card), open cases only: red 红牌 when as-of date > deadline date; yellow 黄牌 when the
      remaining working days (#remaining-workdays, d with as_of < d ≤ deadline_date) are
      ≤ var yellow_workdays; else green.
    - same day 当日办结 (#same-day): completion date = acceptance date (null unless completed). -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ case_pre_hook(['references', 'calendar', 'card'], extra=case_as_of_dependent(this)) }}",
    post_hook="{{ case_post_hook(['references', 'calendar', 'card'], update_as_of=true) }}",
) }}
{#- Incremental on DuckDB (macros/incremental/README.md): a run rebuilds the cases whose events
    changed plus every case whose row depends on the as-of date (not completed: the clock, an
    open pause, the card run to it); a completed case's row is stored, only as_of_date is set. -#}
{%- set increment = case_increment(['references', 'calendar', 'card']) %}
with cases as (
    select * from {{ ref('int_cases__case_facts') }}
    where {{ case_filter(increment, 'case_id') }}
),

pauses as (
    select case_id, sum(paused_workdays) as paused_workdays
    from {{ ref('int_cases__pauses') }}
    where {{ case_filter(increment, 'case_id') }}
    group by case_id
),

calendar as (
    select date, is_workday, workday_seq, assumed_seq, is_assumed_int
    from {{ ref('int_calendar__days') }}
),

as_of_day as (
    select workday_seq as as_of_seq
    from calendar
    where date = {{ as_of_date() }}
),

limits as (
    select
        cases.*,
        cast(coalesce(pauses.paused_workdays, 0) as {{ dbt.type_int() }}) as paused_workdays,
        cast(cases.limit_days + cases.extend_days + coalesce(pauses.paused_workdays, 0) as {{ dbt.type_int() }}) as limit_workdays,
        case when cases.status = 'completed' then cases.completed_date else {{ as_of_date() }} end as clock_end_date,
        accepted_day.workday_seq as accepted_seq,
        accepted_day.assumed_seq - accepted_day.is_assumed_int as assumed_before_acceptance
    from cases
    left join pauses on pauses.case_id = cases.case_id
    left join calendar as accepted_day on accepted_day.date = cases.accepted_date
),

deadlines as (
    select
        limits.*,
        case
            when limits.limit_workdays is null then null
            when limits.limit_workdays = 0 then limits.accepted_date
            when limits.limit_unit = 'calendar_day' then calendar_deadline.date
            else workday_deadline.date
        end as deadline_date
    from limits
    -- workday items: the N-th working day after the acceptance date (民法典 art. 201)
    {{ join_nth_workday_after('calendar', 'workday_deadline', 'limits.accepted_seq', 'limits.limit_workdays',
                              only_if="limits.limit_unit <> 'calendar_day'") }}
    -- calendar_day items: the N-th calendar day, or the working day after it (民法典 art. 203)
    left join calendar as last_calendar_day
        on limits.limit_unit = 'calendar_day'
        and last_calendar_day.date = {{ add_days('limits.limit_workdays', 'limits.accepted_date') }}
    {{ join_workday_on_or_after('calendar', 'calendar_deadline', 'last_calendar_day') }}
),

measured as (
    select
        deadlines.*,
        {{ end_of_day('deadlines.deadline_date') }} as deadline_at,
        case when deadlines.status = 'open' and deadlines.deadline_date is not null
            then {{ workdays_between('as_of_day.as_of_seq', 'deadline_day.workday_seq') }} end as remaining_workdays,
        case when deadlines.status in ('open', 'completed') and deadlines.deadline_date is not null
            then {{ workdays_between('deadline_day.workday_seq', 'clock_end_day.workday_seq') }} end as overdue_workdays,
        greatest(coalesce(deadline_day.assumed_seq, 0), coalesce(clock_end_day.assumed_seq, 0))
            - deadlines.assumed_before_acceptance > 0 as uses_assumed_calendar
    from deadlines
    cross join as_of_day
    left join calendar as deadline_day on deadline_day.date = deadlines.deadline_date
    left join calendar as clock_end_day on clock_end_day.date = deadlines.clock_end_date
)

select
    case_id,
    accept_event_id,
    window_id,
    department_id,
    center_id,
    item_code,
    item_kind,
    limit_unit,
    promised_limit,
    legal_limit,
    limit_source,
    status,
    accepted_at,
    accepted_date,
    completed_at,
    completed_date,
    rejected_at,
    withdrawn_at,
    extend_days,
    paused_workdays,
    limit_workdays,
    deadline_date,
    deadline_at,
    case when status = 'completed' and deadline_at is not null then completed_at <= deadline_at end as is_on_time,
    cast(overdue_workdays as {{ dbt.type_int() }}) as overdue_workdays,
    cast(remaining_workdays as {{ dbt.type_int() }}) as remaining_workdays,
    case
        when status <> 'open' or deadline_date is null then null
        when {{ as_of_date() }} > deadline_date then 'red'
        when remaining_workdays <= {{ var('yellow_workdays') }} then 'yellow'
        else 'green'
    end as card,
    case when status = 'completed' then completed_date = accepted_date end as is_same_day,
    coalesce(uses_assumed_calendar, true) as uses_assumed_calendar,
    {{ as_of_date() }} as as_of_date
from measured
