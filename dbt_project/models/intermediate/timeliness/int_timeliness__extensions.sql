{#- TL_EXTENSION_REPEAT 重复延期, TL_EXTENSION_CAP 延期超限 and TL_EXTENSION_LATE 逾期延期
    (docs/rules.md#tl-extension-repeat, #tl-extension-cap, #tl-extension-late), one row per `extend`
    of an accepted case. 行政许可法 art. 42: a decision not possible within the limit may be
    extended once (只能延长一次), by the head of the organ, before the limit runs out.
    - TL_EXTENSION_REPEAT: any extend after the case's first: not counted.
    - TL_EXTENSION_LATE: the first extend dated after the deadline computed without it (clock start
      and counted pauses as int_cases__accepted): not counted (延期 after the limit = 超时).
    - TL_EXTENSION_CAP: the first extend asks more than the item's max_extension_days, else var
      `max_extension_days`: counted up to that cap.
    counted_days: the days this extend adds to the limit. -#}
with cases as (
    select case_id, window_id, department_id, item_code, accepted_date, limit_days, limit_unit
    from {{ ref('int_cases__case_facts') }}
),

extends as (
    select
        case_id,
        event_id,
        event_date,
        coalesce(extend_days, 0) as requested_days,
        row_number() over (partition by case_id order by event_time, event_id) as extend_seq
    from {{ ref('int_cases__events') }}
    where event_type = 'extend'
),

clock_start as (
    select case_id, clock_start_date
    from {{ ref('int_timeliness__notices') }}
    where clock_start_date is not null
),

paused as (
    select case_id, sum(case when is_counted then paused_workdays else 0 end) as paused_workdays
    from {{ ref('int_timeliness__pauses_counted') }}
    group by case_id
),

calendar as (
    select date, is_workday, workday_seq from {{ ref('int_calendar__days') }}
),

clocked as (
    select
        extends.*,
        cases.window_id,
        cases.department_id,
        cases.limit_unit,
        coalesce(clock_start.clock_start_date, cases.accepted_date) as clock_start_date,
        cast(cases.limit_days + coalesce(paused.paused_workdays, 0) as {{ dbt.type_int() }}) as limit_without_extension,
        coalesce(items.max_extension_days, {{ var('max_extension_days') }}) as max_extension_days
    from extends
    inner join cases on cases.case_id = extends.case_id
    left join clock_start on clock_start.case_id = extends.case_id
    left join paused on paused.case_id = extends.case_id
    left join {{ ref('int_reference__item_versions') }} as items
        on items.item_code = cases.item_code and {{ version_in_force('items', 'cases.accepted_date') }}
),

dated as (
    select
        clocked.*,
        {{ deadline_date('before_extension', 'clocked.clock_start_date', 'clocked.limit_without_extension', 'clocked.limit_unit') }}
            as deadline_without_extension
    from clocked
    left join calendar as start_day on start_day.date = clocked.clock_start_date
    {{ join_deadline('calendar', 'before_extension', 'clocked.clock_start_date', 'start_day.workday_seq',
                     'clocked.limit_without_extension', 'clocked.limit_unit') }}
),

ruled as (
    select
        dated.*,
        case
            when extend_seq > 1 then 'TL_EXTENSION_REPEAT'
            when deadline_without_extension is not null and event_date > deadline_without_extension then 'TL_EXTENSION_LATE'
            when requested_days > max_extension_days then 'TL_EXTENSION_CAP'
        end as rule_id
    from dated
)

select
    case_id,
    window_id,
    department_id,
    event_id,
    event_date,
    cast(extend_seq as {{ dbt.type_int() }}) as extend_seq,
    cast(requested_days as {{ dbt.type_int() }}) as requested_days,
    cast(max_extension_days as {{ dbt.type_int() }}) as max_extension_days,
    deadline_without_extension,
    rule_id,
    cast(case
        when rule_id in ('TL_EXTENSION_REPEAT', 'TL_EXTENSION_LATE') then 0
        else least(requested_days, max_extension_days)
    end as {{ dbt.type_int() }}) as counted_days
from ruled
