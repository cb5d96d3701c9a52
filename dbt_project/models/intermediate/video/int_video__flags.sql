{#- 视频巡查 video flags (flagged ≤ the as-of date), one row per flag_id, with the discipline rule
    (docs/rules.md#video): only confirmed flags count, pending ones are the review backlog,
    dismissed ones never count. An inspector's decision on the 视频巡查 page (视频复核, SPEC §4.11:
    stg_video_reviews__decisions, exported from the supervision store) wins over the feed's
    review_status, reviewed_at and reviewer_id. fct_video_flag publishes it, int_scoring__window_month_base
    counts it.
    - department_id: the flag's window's department in force on the flag's date
      (int_reference__window_versions, docs/rules.md#reference-versions), as a case's on its
      acceptance date: a window that moved department keeps its earlier flags in the old one. -#}
with flags as (
    select * from {{ ref('stg_landing__video_flags') }}
    where cast(flagged_at as date) <= {{ as_of_date() }}
),

reviews as (
    select flag_id, decision, reviewer, reviewed_at from {{ ref('stg_video_reviews__decisions') }}
),

reviewed as (
    select
        f.*,
        coalesce(r.decision, f.review_status) as effective_status,
        case when r.flag_id is null then f.reviewed_at else r.reviewed_at end as effective_reviewed_at,
        case when r.flag_id is null then f.reviewer_id else r.reviewer end as effective_reviewer_id
    from flags f
    left join reviews r on r.flag_id = f.flag_id
),

placed as (
    select
        reviewed.*,
        window_version.department_id
    from reviewed
    left join {{ ref('int_reference__window_versions') }} as window_version
        on window_version.window_id = reviewed.window_id
        and {{ version_in_force('window_version', 'cast(reviewed.flagged_at as date)') }}
)

select
    flag_id,
    window_id,
    department_id,
    camera_id,
    flagged_at,
    recorded_at,
    flag_type,
    source,
    cast(confidence as double) as confidence,
    effective_status as review_status,
    effective_reviewed_at as reviewed_at,
    effective_reviewer_id as reviewer_id,
    clip_ref,
    cast({{ dbt.date_trunc('month', 'flagged_at') }} as date) as flagged_month,
    effective_status = 'confirmed' as counts_for_discipline,
    effective_status = 'pending' as is_review_pending
from placed
