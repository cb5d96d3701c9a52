{#- Timeliness of every accepted case as of the as-of date, one row per case — the shared base of
    fct_case and the off-book rules. Each rule is in docs/rules.md (anchors below); the working-day
    arithmetic is macros/calendar.sql.
    - the counted clock (#timeliness-signals, 行政许可法 arts. 32, 42, 45): the clock starts at the
      acceptance date, or at the received date when the first 补正告知 came late
      (int_timeliness__notices); only the pauses int_timeliness__pauses_counted counts and the
      extension days int_timeliness__extensions counts enter the limit.
    - limit (#limit): N = the item's limit (promised, else legal) + counted extension days +
      counted paused working days.
    - deadline (#deadline): the start day is not counted (民法典 art. 201); workday items end on
      the N-th working day after the clock start date; calendar_day items on the N-th calendar day
      after it, moved to the next working day when it is not one (民法典 art. 203); N = 0 (即办): the
      start day. deadline_at is the end (23:59:59) of that day.
    - legal deadline (#tl-legal-overdue): the same with the item's legal_limit instead of the
      promised one; is_legal_overdue when completed after it, or open past it at the as-of date
      (法定超时); legal_overdue_date = the first working day past it.
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
    select case_id, sum(case when is_counted then paused_workdays else 0 end) as paused_workdays
    from {{ ref('int_timeliness__pauses_counted') }}
    where {{ case_filter(increment, 'case_id') }}
    group by case_id
),

extensions as (
    select case_id, sum(counted_days) as extend_days
    from {{ ref('int_timeliness__extensions') }}
    where {{ case_filter(increment, 'case_id') }}
    group by case_id
),

clock_start as (
    select case_id, clock_start_date
    from {{ ref('int_timeliness__notices') }}
    where clock_start_date is not null
      and {{ case_filter(increment, 'case_id') }}
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

clocked as (
    select
        cases.*,
        coalesce(clock_start.clock_start_date, cases.accepted_date) as clock_start_date,
        cast(coalesce(pauses.paused_workdays, 0) as {{ dbt.type_int() }}) as counted_paused_workdays,
        cast(coalesce(extensions.extend_days, 0) as {{ dbt.type_int() }}) as counted_extend_days
    from cases
    left join pauses on pauses.case_id = cases.case_id
    left join extensions on extensions.case_id = cases.case_id
    left join clock_start on clock_start.case_id = cases.case_id
),

limits as (
    select
        clocked.*,
        cast(clocked.limit_days + clocked.counted_extend_days + clocked.counted_paused_workdays as {{ dbt.type_int() }}) as limit_workdays,
        cast(clocked.legal_limit + clocked.counted_extend_days + clocked.counted_paused_workdays as {{ dbt.type_int() }}) as legal_limit_workdays,
        case when clocked.status = 'completed' then clocked.completed_date else {{ as_of_date() }} end as clock_end_date,
        start_day.workday_seq as start_seq,
        start_day.assumed_seq - start_day.is_assumed_int as assumed_before_acceptance
    from clocked
    left join calendar as start_day on start_day.date = clocked.clock_start_date
),

deadlines as (
    select
        limits.*,
        {{ deadline_date('promised', 'limits.clock_start_date', 'limits.limit_workdays', 'limits.limit_unit') }} as deadline_date,
        {{ deadline_date('legal', 'limits.clock_start_date', 'limits.legal_limit_workdays', 'limits.limit_unit') }} as legal_deadline_date
    from limits
    {{ join_deadline('calendar', 'promised', 'limits.clock_start_date', 'limits.start_seq', 'limits.limit_workdays', 'limits.limit_unit') }}
    {{ join_deadline('calendar', 'legal', 'limits.clock_start_date', 'limits.start_seq', 'limits.legal_limit_workdays', 'limits.limit_unit') }}
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
            - deadlines.assumed_before_acceptance > 0 as uses_assumed_calendar,
        {{ end_of_day('deadlines.legal_deadline_date') }} as legal_deadline_at,
        legal_breach_day.date as legal_overdue_date
    from deadlines
    cross join as_of_day
    left join calendar as deadline_day on deadline_day.date = deadlines.deadline_date
    left join calendar as clock_end_day on clock_end_day.date = deadlines.clock_end_date
    left join calendar as legal_deadline_day on legal_deadline_day.date = deadlines.legal_deadline_date
    -- the first working day past the legal deadline: the day a legal overdue is signalled
    {{ join_nth_workday_after('calendar', 'legal_breach_day', 'legal_deadline_day.workday_seq', '1') }}
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
    counted_extend_days as extend_days,
    counted_paused_workdays as paused_workdays,
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
    clock_start_date,
    legal_limit_workdays,
    legal_deadline_date,
    legal_deadline_at,
    case
        when legal_deadline_date is null then null
        when status = 'completed' then completed_at > legal_deadline_at
        when status = 'open' then {{ as_of_date() }} > legal_deadline_date
        else false
    end as is_legal_overdue,
    legal_overdue_date,
    {{ as_of_date() }} as as_of_date
from measured
