{#- Deduction source 'complaint' 查实投诉 (SPEC v2 §4.6, docs/rules.md#deductions): deduct_substantiated_complaint
    [2] per work order of category complaint with substantiated true at a window (int_hall__work_orders;
    12345 热线 / 办不成事 反映窗口 practice, the centre's 考核细则 扣分制), in the order's received month.
    An order without a window, not (yet) substantiated, or of another category deducts nothing.
    Columns of every deduction source (int_scoring__window_deductions unions them); points > 0 only. -#}
with complaints as (
    select
        month,
        window_id,
        'complaint' as source,
        order_id as ref_id,
        cast({{ var('deduct_substantiated_complaint') }} as {{ type_double() }}) as points,
        {{ dbt.concat([
            "'查实投诉：'", work_order_channel_zh('channel'), "'工单，受理于 '", as_text('received_at')
        ]) }} as reason
    from {{ ref('int_hall__work_orders') }}
    where is_substantiated_complaint and window_id is not null
)

select month, window_id, source, ref_id, points, reason
from complaints
where points > 0
