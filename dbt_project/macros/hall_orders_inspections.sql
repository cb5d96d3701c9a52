{#- The month figures of work orders and inspections (SPEC v2 §4.10, docs/rules.md#work-orders,
    #inspections), one definition for the window-month and the department-month models: `key` is
    window_id or department_id, a column of the cleaned rows; rows without it are in no figure of
    that grain. Rows only for the months (≤ the as-of month) the feed covers for that key. -#}

{#- Work orders per key and month: work_orders, complaints, substantiated_complaints and
    requester_satisfaction_rate by received month; work_orders_closed_on_time_rate among the orders
    due that month that have a verdict (int_hall__work_orders.is_closed_on_time), 1.0 when none is
    due. A row exists when an order of the key was received or falls due that month. -#}
{% macro work_order_month_figures(key) -%}
with orders as (
    select *
    from {{ ref('int_hall__work_orders') }}
    where {{ key }} is not null
),

received as (
    select
        month,
        {{ key }},
        count(*) as work_orders,
        sum(case when is_complaint then 1 else 0 end) as complaints,
        sum(case when is_substantiated_complaint then 1 else 0 end) as substantiated_complaints,
        sum(case when requester_satisfaction is not null then 1 else 0 end) as rated_orders,
        sum(case when requester_satisfaction = 'satisfied' then 1 else 0 end) as satisfied_orders
    from orders
    group by month, {{ key }}
),

due as (
    select
        due_month as month,
        {{ key }},
        count(is_closed_on_time) as due_orders,
        sum(case when is_closed_on_time then 1 else 0 end) as closed_on_time
    from orders
    where due_month is not null
    group by due_month, {{ key }}
),

spine as (
    select month, {{ key }} from received
    union
    select month, {{ key }} from due
)

select
    spine.month,
    spine.{{ key }},
    coalesce(received.work_orders, 0) as work_orders,
    coalesce(received.complaints, 0) as complaints,
    coalesce(received.substantiated_complaints, 0) as substantiated_complaints,
    case
        when due.due_orders > 0 then cast(due.closed_on_time as {{ type_double() }}) / due.due_orders
        else 1.0
    end as work_orders_closed_on_time_rate,
    case
        when received.rated_orders > 0 then cast(received.satisfied_orders as {{ type_double() }}) / received.rated_orders
    end as requester_satisfaction_rate
from spine
left join received on received.month = spine.month and received.{{ key }} = spine.{{ key }}
left join due on due.month = spine.month and due.{{ key }} = spine.{{ key }}
where spine.month <= {{ as_of_date() }}
{%- endmacro %}

{#- Inspections per key and inspected month: inspections, inspection_findings (finding other than
    none; a record without a finding is no finding), deduction_points (the records' own points). -#}
{% macro inspection_month_figures(key) -%}
select
    month,
    {{ key }},
    count(*) as inspections,
    sum(case when has_finding then 1 else 0 end) as inspection_findings,
    cast(sum(coalesce(deduction, 0)) as {{ type_double() }}) as deduction_points
from {{ ref('int_hall__inspections') }}
where {{ key }} is not null
group by month, {{ key }}
{%- endmacro %}

{#- Chinese labels of the work-order and inspection codes for the deduction reasons a person reads
    (the feed contract's Chinese values, core/feeds.py WORK_ORDERS / INSPECTIONS); an unknown code
    reads 其他. -#}
{% macro work_order_channel_zh(col) -%}
case {{ col }}
    when 'hotline_12345' then '12345热线'
    when 'cant_get_done' then '办不成事反映窗口'
    when 'mailbox' then '信箱'
    else '其他渠道'
end
{%- endmacro %}

{% macro inspection_method_zh(col) -%}
case {{ col }}
    when 'video_spot' then '视频抽查'
    when 'on_site' then '现场检查'
    when 'mystery' then '暗访'
    else '检查'
end
{%- endmacro %}

{% macro inspection_finding_zh(col) -%}
case {{ col }}
    when 'none' then '无问题'
    when 'absent' then '脱岗'
    when 'attitude' then '态度'
    when 'discipline' then '纪律'
    when 'environment' then '环境'
    when 'process' then '流程'
    else '其他'
end
{%- endmacro %}
