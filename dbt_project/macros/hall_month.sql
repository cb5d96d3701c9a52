{#- The hall-operation and supervision figures of a window-month or department-month (SPEC v2 §4.10,
    §4.11, §5; docs/rules.md#hall-month), joined from the per-feed models of that grain
    (int_hall__<feed>_<grain>_month, int_supervision__<grain>_month): one row per key × month that any
    of them covers. A figure stays null where its feed does not cover the row (never delivered, or no
    row for that key that month: §4.10 "elsewhere null"); the supervision counts are the workflow's own
    and are 0 where no item was opened. `grain`: 'window' or 'department'. -#}
{% macro hall_month_figures(grain) -%}
{%- set key = grain ~ '_id' %}
{%- set parts = {
    'attendance': 'int_hall__attendance_' ~ grain ~ '_month',
    'queue': 'int_hall__queue_' ~ grain ~ '_month',
    'work_orders': 'int_hall__work_orders_' ~ grain ~ '_month',
    'inspections': 'int_hall__inspections_' ~ grain ~ '_month',
    'supervision': 'int_supervision__' ~ grain ~ '_month',
} %}
with
{% for name, model in parts.items() %}
{{ name }} as (
    select * from {{ ref(model) }}
),
{% endfor %}

covered as (
    {% for name in parts %}
    select month, {{ key }} from {{ name }}
    {% if not loop.last %}union{% endif %}
    {% endfor %}
)

select
    covered.month,
    covered.{{ key }},
    attendance.days_scheduled,
    attendance.days_staffed,
    attendance.days_covered,
    attendance.in_post_rate,
    attendance.absent_days,
    attendance.late_arrivals,
    attendance.early_leaves,
    queue.avg_wait_minutes,
    queue.p90_wait_minutes,
    work_orders.substantiated_complaints,
    work_orders.work_orders_closed_on_time_rate,
    inspections.inspection_findings,
    coalesce(supervision.supervision_items_opened, 0) as supervision_items_opened,
    coalesce(supervision.supervision_acknowledged_on_time, 0) as supervision_acknowledged_on_time,
    coalesce(supervision.supervision_escalated, 0) as supervision_escalated
from covered
{% for name in parts %}
left join {{ name }} on {{ name }}.month = covered.month and {{ name }}.{{ key }} = covered.{{ key }}
{% endfor %}
{%- endmacro %}
