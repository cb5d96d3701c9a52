{#- One row per accepted case (SPEC §4.2): the case belongs to the window, and that window's
    department and centre, of its first `accept` event; a case without `accept` is not a case.
    Status precedence: completed (has `complete`) > rejected > withdrawn > open. The item's
    limits come from the `items` feed (dim_item decides the defaults). -#}
with events as (
    select * from {{ ref('int_cases__events') }}
),

accepts as (
    select
        case_id,
        event_id,
        event_time,
        window_id,
        item_code,
        row_number() over (partition by case_id order by event_time, event_id) as accept_rank
    from events
    where event_type = 'accept'
),

first_accept as (
    select case_id, event_id as accept_event_id, event_time as accepted_at, window_id, item_code
    from accepts
    where accept_rank = 1
),

per_case as (
    select
        case_id,
        min(case when event_type = 'complete' then event_time end) as completed_at,
        min(case when event_type = 'reject' then event_time end) as rejected_at,
        min(case when event_type = 'withdraw' then event_time end) as withdrawn_at,
        sum(case when event_type = 'extend' then coalesce(extend_days, 0) else 0 end) as extend_days,
        count(*) as events
    from events
    group by case_id
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
    per_case.completed_at,
    cast(per_case.completed_at as date) as completed_date,
    per_case.rejected_at,
    per_case.withdrawn_at,
    case
        when per_case.completed_at is not null then 'completed'
        when per_case.rejected_at is not null then 'rejected'
        when per_case.withdrawn_at is not null then 'withdrawn'
        else 'open'
    end as status,
    cast(per_case.extend_days as {{ dbt.type_int() }}) as extend_days,
    per_case.events
from first_accept
inner join per_case on per_case.case_id = first_accept.case_id
left join {{ ref('int_reference__windows') }} as windows on windows.window_id = first_accept.window_id
left join {{ ref('int_reference__items') }} as items on items.item_code = first_accept.item_code
