{#- TL_LATE_NOTICE 补正告知逾期 and TL_REPEAT_NOTICE 多次补正 (docs/rules.md#tl-late-notice,
    #tl-repeat-notice), one row per `supplement_request` of an accepted case.
    行政许可法 art. 32: a window that finds an application incomplete must tell the applicant
    everything to supplement at once (一次性告知) and within five days; if it does not, the
    application is deemed accepted (受理) on the day it was received.
    - TL_LATE_NOTICE: the case's first notice comes more than var `supplement_notice_workdays`
      working days after its first `submit` (its acceptance date when there is no `submit`):
      wd(received_date, notice_date] > threshold. The clock then starts at the received date
      (clock_start_date) and this notice's pause is not counted.
    - TL_REPEAT_NOTICE: every later notice; the pauses they start are not counted.
    is_counted: whether the pause this notice starts counts in the limit (int_timeliness__pauses_counted). -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ case_pre_hook(['references', 'calendar', 'card']) }}",
    post_hook="{{ case_post_hook(['references', 'calendar', 'card']) }}",
) }}
{#- Incremental on DuckDB (performance; macros/incremental/README.md): a daily build recomputes the cases whose
    events changed (a notice's count and working days read only its own case's events); the
    calendar, the window versions behind the case's department and var supplement_notice_workdays
    (part card) are its fingerprint. -#}
{%- set increment = case_increment(['references', 'calendar', 'card']) %}
with cases as (
    select case_id, window_id, department_id, accepted_date
    from {{ ref('int_cases__case_facts') }}
    where {{ case_filter(increment, 'case_id') }}
),

events as (
    select case_id, event_id, event_type, event_time, event_date
    from {{ ref('int_cases__events') }}
    where event_type in ('submit', 'supplement_request')
      and {{ case_filter(increment, 'case_id') }}
),

received as (
    select case_id, min(event_date) as submit_date
    from events
    where event_type = 'submit'
    group by case_id
),

notices as (
    select
        events.case_id,
        events.event_id,
        events.event_date as notice_date,
        row_number() over (partition by events.case_id order by events.event_time, events.event_id) as notice_seq
    from events
    where events.event_type = 'supplement_request'
),

calendar as (
    select date, workday_seq from {{ ref('int_calendar__days') }}
),

measured as (
    select
        notices.case_id,
        cases.window_id,
        cases.department_id,
        notices.event_id,
        notices.notice_date,
        notices.notice_seq,
        cases.accepted_date,
        coalesce(received.submit_date, cases.accepted_date) as received_date,
        {{ workdays_between('received_day.workday_seq', 'notice_day.workday_seq') }} as notice_workdays
    from notices
    inner join cases on cases.case_id = notices.case_id
    left join received on received.case_id = notices.case_id
    left join calendar as received_day on received_day.date = coalesce(received.submit_date, cases.accepted_date)
    left join calendar as notice_day on notice_day.date = notices.notice_date
),

ruled as (
    select
        measured.*,
        case
            when notice_seq > 1 then 'TL_REPEAT_NOTICE'
            when notice_workdays > {{ var('supplement_notice_workdays') }} then 'TL_LATE_NOTICE'
        end as rule_id
    from measured
)

select
    case_id,
    window_id,
    department_id,
    event_id,
    notice_date,
    cast(notice_seq as {{ dbt.type_int() }}) as notice_seq,
    received_date,
    cast(notice_workdays as {{ dbt.type_int() }}) as notice_workdays,
    rule_id,
    rule_id is null as is_counted,
    case when rule_id = 'TL_LATE_NOTICE' then least(received_date, accepted_date) end as clock_start_date
from ruled
