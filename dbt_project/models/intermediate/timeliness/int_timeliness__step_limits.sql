{#- The step limits 环节时限 in force (docs/rules.md#tl-step-overdue), one row per item × (from_event,
    to_event): an item's own row for a pair wins over the `*` row (every item) for that pair. From
    the optional `step_limits` feed: never delivered, no rows (TL_STEP_OVERDUE stays silent). -#}
with limits as (
    select item_code, from_event, to_event, limit_workdays
    from {{ ref('stg_landing__step_limits') }}
    where limit_workdays is not null
),

items as (
    select item_code from {{ ref('int_reference__items') }}
),

candidates as (
    select items.item_code, limits.from_event, limits.to_event, limits.limit_workdays,
           case when limits.item_code = '*' then 1 else 0 end as is_default
    from items
    inner join limits on limits.item_code = items.item_code or limits.item_code = '*'
),

ranked as (
    select
        candidates.*,
        row_number() over (partition by item_code, from_event, to_event order by is_default) as rank_in_pair
    from candidates
)

select
    item_code,
    from_event,
    to_event,
    cast(limit_workdays as {{ dbt.type_int() }}) as limit_workdays,
    is_default = 1 as is_default
from ranked
where rank_in_pair = 1
