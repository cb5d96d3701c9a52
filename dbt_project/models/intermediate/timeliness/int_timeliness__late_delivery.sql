{#- TL_LATE_DELIVERY 送达超时 (docs/rules.md#tl-late-delivery), one row per case delivered late.
    行政许可法 art. 44: a permit must be issued and delivered (颁发、送达) within ten days of the
    decision. wd(approve_date, deliver_date] > the item's deliver_limit, else var
    `deliver_limit_workdays`, with approve = the case's first `approve` and deliver = its first
    `deliver` after it. An approved case with no `deliver` is measured to the as-of date while it
    is open; once completed without a recorded delivery it is not flagged (many systems close
    cases without recording delivery). signal_date = the first working day past the limit. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ case_pre_hook(['references', 'calendar', 'card'], extra=case_not_completed()) }}",
    post_hook="{{ case_post_hook(['references', 'calendar', 'card']) }}",
) }}
{#- Incremental on DuckDB (performance; macros/incremental/README.md): a daily build recomputes the cases whose
    events changed and every case not completed (an open case without a delivery is measured to the
    as-of date); the calendar, the item versions (deliver_limit) and var deliver_limit_workdays (part
    card) are its fingerprint. -#}
{%- set increment = case_increment(['references', 'calendar', 'card']) %}
with cases as (
    select case_id, window_id, department_id, item_code, accepted_date, status
    from {{ ref('int_cases__case_facts') }}
    where {{ case_filter(increment, 'case_id') }}
),

events as (
    select case_id, event_type, event_time
    from {{ ref('int_cases__events') }}
    where event_type in ('approve', 'deliver')
      and {{ case_filter(increment, 'case_id') }}
),

approved as (
    select case_id, min(event_time) as approved_at
    from events
    where event_type = 'approve'
    group by case_id
),

delivered as (
    select approved.case_id, approved.approved_at, min(events.event_time) as delivered_at
    from approved
    left join events
        on events.case_id = approved.case_id and events.event_type = 'deliver' and events.event_time >= approved.approved_at
    group by approved.case_id, approved.approved_at
),

measured as (
    select
        cases.case_id,
        cases.window_id,
        cases.department_id,
        delivered.delivered_at,
        cast(delivered.approved_at as date) as approve_date,
        case when delivered.delivered_at is not null then cast(delivered.delivered_at as date) else {{ as_of_date() }} end as deliver_date,
        coalesce(items.deliver_limit, {{ var('deliver_limit_workdays') }}) as deliver_limit
    from delivered
    inner join cases on cases.case_id = delivered.case_id
    left join {{ ref('int_reference__item_versions') }} as items
        on items.item_code = cases.item_code and {{ version_in_force('items', 'cases.accepted_date') }}
    where delivered.delivered_at is not null or cases.status = 'open'
),

calendar as (
    select date, is_workday, workday_seq from {{ ref('int_calendar__days') }}
),

elapsed as (
    select
        measured.*,
        approve_day.workday_seq as approve_seq,
        {{ workdays_between('approve_day.workday_seq', 'deliver_day.workday_seq') }} as deliver_workdays
    from measured
    left join calendar as approve_day on approve_day.date = measured.approve_date
    left join calendar as deliver_day on deliver_day.date = measured.deliver_date
)

select
    elapsed.case_id,
    elapsed.window_id,
    elapsed.department_id,
    'TL_LATE_DELIVERY' as rule_id,
    coalesce(breach_day.date, elapsed.deliver_date) as signal_date,
    {{ dbt.concat([
        "'approve='", as_text('elapsed.approve_date'),
        "case when elapsed.delivered_at is null then ' open as_of=' else ' deliver=' end", as_text('elapsed.deliver_date'),
        "' workdays='", as_text('elapsed.deliver_workdays'),
        "' limit='", as_text('elapsed.deliver_limit')
    ]) }} as evidence
from elapsed
{{ join_nth_workday_after('calendar', 'breach_day', 'elapsed.approve_seq', 'elapsed.deliver_limit + 1') }}
where elapsed.deliver_workdays > elapsed.deliver_limit
