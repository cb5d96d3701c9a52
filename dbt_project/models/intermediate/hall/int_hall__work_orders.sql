{#- 12345 / 办不成事 工单 (SPEC v2 §4.10, docs/rules.md#work-orders): one row per order_id received on or
    before the as-of date, with the rules every work-order figure and the complaint deduction read.

    - department_id: the order's own (承办部门), else its window's department in force on the
      received date (int_reference__window_versions, docs/rules.md#reference-versions).
    - Events after the as-of date are ignored: a responded_at / closed_at later than the as-of date
      is not yet there (null), as a case's completion after it is.
    - is_closed_on_time (按期办结): closed_at ≤ due_at; an order not closed counts as not on time once
      its due date is on or before the as-of date (due_at has passed by the end of that day), and has
      no verdict (null) while still running; no due_at, no verdict. due_month is the month it counts in.
    - is_substantiated_complaint (查实投诉): category complaint and substantiated true (null: not yet
      decided, false: not substantiated; neither counts). -#}
with orders as (
    select *
    from {{ ref('stg_landing__work_orders') }}
    where cast(received_at as date) <= {{ as_of_date() }}
),

cleaned as (
    select
        orders.order_id,
        orders.channel,
        orders.category,
        orders.received_at,
        coalesce(orders.department_id, window_version.department_id) as department_id,
        orders.window_id,
        orders.due_at,
        case when cast(orders.responded_at as date) <= {{ as_of_date() }} then orders.responded_at end as responded_at,
        case when cast(orders.closed_at as date) <= {{ as_of_date() }} then orders.closed_at end as closed_at,
        orders.substantiated,
        orders.requester_satisfaction,
        orders.content,
        orders.recorded_at
    from orders
    left join {{ ref('int_reference__window_versions') }} as window_version
        on window_version.window_id = orders.window_id
        and {{ version_in_force('window_version', 'cast(orders.received_at as date)') }}
)

select
    order_id,
    channel,
    category,
    received_at,
    department_id,
    window_id,
    due_at,
    responded_at,
    closed_at,
    substantiated,
    requester_satisfaction,
    content,
    recorded_at,
    cast({{ dbt.date_trunc('month', 'received_at') }} as date) as month,
    cast({{ dbt.date_trunc('month', 'due_at') }} as date) as due_month,
    coalesce(category = 'complaint', false) as is_complaint,
    coalesce(category = 'complaint' and substantiated, false) as is_substantiated_complaint,
    case
        when due_at is null then null
        when closed_at is not null then closed_at <= due_at
        when cast(due_at as date) <= {{ as_of_date() }} then false
    end as is_closed_on_time
from cleaned
