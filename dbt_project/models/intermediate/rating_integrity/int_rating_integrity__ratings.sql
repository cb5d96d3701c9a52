{#- The ratings the 评价真实性 rules read (SPEC §4.9, docs/rules.md#rating-integrity): active ratings
    (channel not `default` 系统默认评价: nobody pressed anything, so nothing to fake) evaluated on or before
    the as-of date, with a window and a time. is_in_hall: channel pad 政务大厅平板电脑 or terminal 政务大厅其他终端,
    the only channels where staff can press the rating themselves (刷好评) — the per-rating rules
    RI_BURST, RI_NO_SERVICE and RI_OFF_HOURS look at these only; RI_TOO_PERFECT counts every active rating.
    A view: each rule reads its few columns of the staged table once. -#}
{{ config(materialized='view') }}
select
    evaluation_id,
    window_id,
    device_id,
    channel,
    rating,
    evaluated_at,
    cast(evaluated_at as date) as evaluated_date,
    cast({{ dbt.date_trunc('month', 'evaluated_at') }} as date) as month,
    coalesce(channel in ('pad', 'terminal'), false) as is_in_hall
from {{ ref('stg_landing__evaluations') }}
where evaluated_at is not null
  and window_id is not null
  and coalesce(channel, '') <> 'default'
  and cast(evaluated_at as date) <= {{ as_of_date() }}
