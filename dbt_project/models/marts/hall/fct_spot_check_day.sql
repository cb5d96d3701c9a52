{#- 一日三查 spot-check schedule as published (SPEC v2 §4.10, §5): per centre and working day, video_spot
    inspections done against spot_checks_per_day; the rule lives in int_hall__spot_check_days
    (docs/rules.md#spot-checks); the published columns are the contract in _hall__inspections.yml. -#}
select * from {{ ref('int_hall__spot_check_days') }}
