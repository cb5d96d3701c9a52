{#- 视频巡查 video flags (flagged ≤ the as-of date), one row per flag_id, with the discipline rule
    (docs/rules.md#video): only confirmed flags count, pending ones are the review backlog,
    dismissed ones never count. fct_video_flag publishes it, int_scoring__window_month_base counts it. -#}
select
    flag_id,
    window_id,
    camera_id,
    flagged_at,
    recorded_at,
    flag_type,
    source,
    cast(confidence as double) as confidence,
    review_status,
    reviewed_at,
    reviewer_id,
    clip_ref,
    cast({{ dbt.date_trunc('month', 'flagged_at') }} as date) as flagged_month,
    review_status = 'confirmed' as counts_for_discipline,
    review_status = 'pending' as is_review_pending
from {{ ref('stg_landing__video_flags') }}
where cast(flagged_at as date) <= {{ as_of_date() }}
