{#- Window versions with their validity intervals (docs/rules.md#reference-versions; SPEC §3 v2 valid_from 生效日期):
    one row per window_id and delivered valid_from (staging keeps the latest delivery of each);
    version k applies on [valid_from, valid_to) (macros/reference_versions.sql). A window moved to
    another department with valid_from keeps its cases accepted before that date, and its months
    whose first day is before it, in the old department; a row without valid_from is the version
    from the beginning (v1: the latest delivery wins, for all time). -#}
with rows as (
    select
        window_id,
        window_name,
        department_id,
        department_name,
        center_id,
        center_name,
        window_kind,
        opened_on,
        closed_on,
        valid_from as delivered_valid_from
    from {{ ref('stg_landing__windows') }}
)

select
    window_id,
    {{ version_intervals('window_id') }},
    delivered_valid_from,
    window_name,
    department_id,
    department_name,
    center_id,
    center_name,
    window_kind,
    opened_on,
    closed_on
from rows
