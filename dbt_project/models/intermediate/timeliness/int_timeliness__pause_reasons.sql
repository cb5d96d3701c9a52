{#- TL_PAUSE_REASON 特别程序事由不符 and TL_PAUSE_NO_REASON 特别程序未载明事由
    (docs/rules.md#tl-pause-reason, #tl-pause-no-reason), one row per `suspend` of an accepted case.
    行政许可法 art. 45: only the time of 听证、招标、拍卖、检验、检测、检疫、鉴定 and 专家评审 (and the like,
    by law) is left out of the limit, and the applicant must be told in writing.
    - TL_PAUSE_REASON: a pause_reason not in var `pause_reasons_allowed`: the pause is not counted.
    - TL_PAUSE_NO_REASON: no pause_reason: the pause counts when var `pause_without_reason` is
      `count` (the default, for systems that never recorded reasons), not when `ignore`.
    is_counted: whether the pause this suspend starts counts in the limit. -#}
{%- set allowed = var('pause_reasons_allowed') %}
{%- set without_reason_counts = var('pause_without_reason') == 'count' %}
with cases as (
    select case_id, window_id, department_id
    from {{ ref('int_cases__case_facts') }}
),

suspends as (
    select case_id, event_id, event_date, pause_reason
    from {{ ref('int_cases__events') }}
    where event_type = 'suspend'
),

ruled as (
    select
        suspends.case_id,
        cases.window_id,
        cases.department_id,
        suspends.event_id,
        suspends.event_date,
        suspends.pause_reason,
        case
            when suspends.pause_reason is null then 'TL_PAUSE_NO_REASON'
            {%- if allowed | length > 0 %}
            when suspends.pause_reason not in ('{{ allowed | join("', '") }}') then 'TL_PAUSE_REASON'
            {%- else %}
            else 'TL_PAUSE_REASON'
            {%- endif %}
        end as rule_id
    from suspends
    inner join cases on cases.case_id = suspends.case_id
)

select
    case_id,
    window_id,
    department_id,
    event_id,
    event_date,
    pause_reason,
    rule_id,
    case
        when rule_id is null then true
        when rule_id = 'TL_PAUSE_NO_REASON' then {{ 'true' if without_reason_counts else 'false' }}
        else false
    end as is_counted
from ruled
