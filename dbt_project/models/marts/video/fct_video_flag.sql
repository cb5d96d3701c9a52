{#- 视频巡查 video flags as published; the discipline rule (only confirmed flags count, pending ones
    are the review backlog) lives in int_video__flags (docs/rules.md#video); the published columns
    are the contract in _video.yml. -#}
select * from {{ ref('int_video__flags') }}
