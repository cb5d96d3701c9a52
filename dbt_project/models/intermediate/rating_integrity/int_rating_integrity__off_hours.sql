{#- RI_OFF_HOURS 非服务时间评价 (SPEC §4.9, docs/rules.md#ri-off-hours): an in-hall rating given outside the hall
    hours of its window for the kind of day it fell on — the same hours, day kinds and 延时服务 exemption
    as OB_OFF_HOURS (macros/hall_hours.sql, one definition for both): before opening, after closing (the
    opening and closing instants are inside), on a day kind with no hours, unless the window registered
    extended_service that day until at least that time. Nobody is served at the pad of a closed hall. -#}
with ratings as (
    select evaluation_id, window_id, month, evaluated_at, evaluated_date
    from {{ ref('int_rating_integrity__ratings') }}
    where is_in_hall
)

select
    outside.evaluation_id,
    outside.window_id,
    outside.month,
    'RI_OFF_HOURS' as rule_id,
    outside.evaluated_date as signal_date,
    {{ dbt.concat([
        "'rated='", as_text('outside.evaluated_at'),
        "' window='", 'outside.window_id',
        "' day='", 'outside.day_kind',
        "case when outside.open_time is null or outside.close_time is null then ' hours=closed' else "
            ~ dbt.concat(["' open='", as_text('outside.open_time'), "' close='", as_text('outside.close_time')]) ~ " end"
    ]) }} as evidence
from {{ outside_hall_hours('ratings', 'window_id', 'evaluated_at', 'evaluated_date') }} as outside
