{#- One row per accepted case (docs/rules.md#case): the case belongs to the window, and that window's
    department and centre, of its first `accept` event; a case without `accept` is not a case.
    Status precedence: completed (has `complete`) > rejected > withdrawn > open. The item's
    limits come from the `items` feed (dim_item decides the defaults); the window's department and
    the item's limits are the versions in force on the acceptance date (docs/rules.md#reference-versions). -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ case_pre_hook(['references']) }}",
    post_hook="{{ case_post_hook(['references']) }}",
) }}
{#- Incremental on DuckDB (macros/incremental/README.md): a run rebuilds only the cases a new
    delivery touched or whose events cross the as-of date move; the rest are unchanged. -#}
{%- set increment = case_increment(['references']) %}
with events as (
    select * from {{ ref('int_cases__events') }}
    where {{ case_filter(increment, 'case_id') }}
),

{#- One aggregation pass over the events: the first accept is the least (event_time, event_id)
    of the case's accept events — a struct minimum, so the window and item of that same event
    come with it (event_id is unique, so the order is total; the same choice as ranking the
    accepts by event_time, event_id). -#}
per_case as (
    select
        case_id,
        min(case when event_type = 'accept' then
            {{ struct_of(['event_time', 'event_id', 'window_id', 'item_code'], ['accepted_at', 'accept_event_id', 'window_id', 'item_code']) }}
        end) as accept_fields,
        min(case when event_type = 'complete' then event_time end) as completed_at,
        min(case when event_type = 'reject' then event_time end) as rejected_at,
        min(case when event_type = 'withdraw' then event_time end) as withdrawn_at,
        sum(case when event_type = 'extend' then coalesce(extend_days, 0) else 0 end) as extend_days,
        count(*) as events
    from events
    group by case_id
),

first_accept as (
    select
        case_id,
        accept_fields.accept_event_id as accept_event_id,
        accept_fields.accepted_at as accepted_at,
        accept_fields.window_id as window_id,
        accept_fields.item_code as item_code,
        completed_at,
        rejected_at,
        withdrawn_at,
        extend_days,
        events
    from per_case
    where accept_fields is not null
)

select
    first_accept.case_id,
    first_accept.accept_event_id,
    first_accept.window_id,
    windows.department_id,
    windows.center_id,
    first_accept.item_code,
    items.item_kind,
    items.limit_unit,
    items.promised_limit,
    items.legal_limit,
    items.limit_days,
    items.limit_source,
    first_accept.accepted_at,
    cast(first_accept.accepted_at as date) as accepted_date,
    first_accept.completed_at,
    cast(first_accept.completed_at as date) as completed_date,
    first_accept.rejected_at,
    first_accept.withdrawn_at,
    case
        when first_accept.completed_at is not null then 'completed'
        when first_accept.rejected_at is not null then 'rejected'
        when first_accept.withdrawn_at is not null then 'withdrawn'
        else 'open'
    end as status,
    cast(first_accept.extend_days as {{ dbt.type_int() }}) as extend_days,
    first_accept.events
from first_accept
-- the window's and the item's versions in force on the acceptance date (docs/rules.md#reference-versions)
left join {{ ref('int_reference__window_versions') }} as windows
    on windows.window_id = first_accept.window_id
   and {{ version_in_force('windows', 'cast(first_accept.accepted_at as date)') }}
left join {{ ref('int_reference__item_versions') }} as items
    on items.item_code = first_accept.item_code
   and {{ version_in_force('items', 'cast(first_accept.accepted_at as date)') }}
