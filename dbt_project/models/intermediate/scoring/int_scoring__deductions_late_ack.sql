{#- Deduction source 'late_ack' (SPEC §4.6, §4.11; docs/rules.md#deductions): deduct_late_ack points per
    supervision item of the window acknowledged (回告) after its reply-by date, or not at all once that
    date has passed (macros/supervision.sql: an item still unacknowledged at month end is late), counted
    in the reply-by month. Only items of a window: an item of no window deducts nothing. ref_id is the
    item id; the reason reads "督办 #12 回告期限 2026-11-05，11-07 回告（逾期）" (the year too when the reply
    came in another year) or "督办 #12 回告期限 2026-11-05，逾期未回告". Basis: the 督办通知书 sets the
    reply-by date (notified + ack_workdays working days); the centre's 考核细则 (扣分制) take points off per
    late reply. -#}
{%- set acknowledged_on = as_text('cast(items.acknowledged_at as date)') -%}
{%- set acknowledged_day = "case when extract(year from items.acknowledged_at) = extract(year from items.reply_by) then "
    ~ dbt.right(acknowledged_on, '5') ~ " else " ~ acknowledged_on ~ " end" -%}
with items as (
    select * from {{ ref('int_supervision__items') }}
),

late as (
    select
        items.reply_by_month as month,
        items.window_id,
        'late_ack' as source,
        {{ as_text('items.item_id') }} as ref_id,
        cast({{ var('deduct_late_ack', 1) }} as {{ type_double() }}) as points,
        {{ dbt.concat([
            "'督办 #'", as_text('items.item_id'), "' 回告期限 '", as_text('cast(items.reply_by as date)'),
            "case when items.acknowledged_at is null then '，逾期未回告' else "
            ~ dbt.concat(["'，'", acknowledged_day, "' 回告（逾期）'"]) ~ " end"]) }} as reason
    from items
    where items.window_id is not null
      and not items.is_acknowledged_on_time
)

select month, window_id, source, ref_id, points, reason
from late
where points > 0
