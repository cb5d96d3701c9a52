{#- 督办 items (SPEC §4.11; docs/rules.md#supervision-marts) as exported at the start of the run, with the
    months they count in and the deadline verdicts (macros/supervision.sql):
    - is_acknowledged_on_time: 回告 on or before the reply-by date; false when later, or when the
      reply-by date has passed without one (the late-acknowledgement deduction, §4.6);
    - is_rectified_on_time: 整改 on or before the fix-by date, likewise;
    - escalations: transitions to escalated 已升级 (by hand, by sync past a deadline, or on opening for
      a legal-overdue item).
    Deadlines and times are the item's current ones: a reopened item starts over (as stats.py). -#}
with items as (
    select * from {{ ref('stg_supervision__items') }}
),

escalations as (
    select item_id, count(*) as escalations
    from {{ ref('stg_supervision__transitions') }}
    where to_state = 'escalated'
    group by item_id
)

select
    items.*,
    cast({{ dbt.date_trunc('month', 'items.opened_at') }} as date) as opened_month,
    cast({{ dbt.date_trunc('month', 'items.reply_by') }} as date) as reply_by_month,
    {{ done_by_deadline('items.acknowledged_at', 'items.reply_by') }} as is_acknowledged_on_time,
    {{ done_by_deadline('items.rectified_at', 'items.fix_by') }} as is_rectified_on_time,
    cast(coalesce(escalations.escalations, 0) as {{ dbt.type_bigint() }}) as escalations
from items
left join escalations on escalations.item_id = items.item_id
