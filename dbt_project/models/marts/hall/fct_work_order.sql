{#- 12345 / 办不成事 工单 as published (SPEC v2 §4.10, §5): the cleaned orders with their rules
    (department, is_closed_on_time, the complaint flags), which live in int_hall__work_orders
    (docs/rules.md#work-orders); the published columns are the contract in _hall__work_orders.yml. -#}
select * from {{ ref('int_hall__work_orders') }}
