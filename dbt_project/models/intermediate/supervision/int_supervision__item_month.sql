{#- The monthly 督办 figures (SPEC §4.11, §5; docs/rules.md#supervision-marts) per item and month, 0/1 each,
    so the window and the department figures are the same sums:
    - opened: the item was opened that month (opened_at);
    - acknowledged_on_time: its reply-by date falls that month and it was acknowledged by then;
    - escalated: it was escalated that month (a transition to escalated; twice in a month counts once).
    An item counts for its own window_id and department_id (as the store has them). -#}
with items as (
    select * from {{ ref('int_supervision__items') }}
),

escalated as (
    select distinct
        item_id,
        cast({{ dbt.date_trunc('month', 'transitioned_at') }} as date) as month
    from {{ ref('stg_supervision__transitions') }}
    where to_state = 'escalated'
),

figures as (
    select item_id, opened_month as month, 1 as opened, 0 as acknowledged_on_time, 0 as escalated
    from items
    union all
    select item_id, reply_by_month as month, 0 as opened, 1 as acknowledged_on_time, 0 as escalated
    from items
    where is_acknowledged_on_time
    union all
    select item_id, month, 0 as opened, 0 as acknowledged_on_time, 1 as escalated
    from escalated
)

select
    figures.month,
    items.item_id,
    items.window_id,
    items.department_id,
    max(figures.opened) as opened,
    max(figures.acknowledged_on_time) as acknowledged_on_time,
    max(figures.escalated) as escalated
from figures
inner join items on items.item_id = figures.item_id
group by figures.month, items.item_id, items.window_id, items.department_id
