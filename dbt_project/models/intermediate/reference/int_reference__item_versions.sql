{#- Item versions with their validity intervals (docs/rules.md#reference-versions; SPEC §3 v2 valid_from 生效日期):
    one row per item_code and delivered valid_from (staging keeps the latest delivery of each);
    version k applies on [valid_from, valid_to) (macros/reference_versions.sql). A 减时限 reform
    delivered with valid_from changes the limits of the cases accepted from that date only; a row
    without valid_from is the version from the beginning (v1: the latest delivery wins, for all time).
    The limit every timeliness rule uses (docs/rules.md#limit; 行政许可法 art. 42):
    limit_days = promised_limit (承诺时限), or the legal_limit (法定时限) when no promise is given;
    both missing → null (such cases get no deadline, no card and stay out of the rates).
    limit_unit defaults to workday (行政许可法 counts 工作日). max_extension_days (延期上限), deliver_limit
    (送达时限) and approval_mode (审批方式) are as delivered: a rule that reads them applies the
    scoring file's default (docs/rules.md#timeliness-signals). -#}
with rows as (
    select
        item_code,
        item_name,
        department_id,
        item_kind,
        legal_limit,
        promised_limit,
        limit_unit,
        fee_required,
        max_extension_days,
        deliver_limit,
        approval_mode,
        valid_from as delivered_valid_from
    from {{ ref('stg_landing__items') }}
)

select
    item_code,
    {{ version_intervals('item_code') }},
    delivered_valid_from,
    item_name,
    department_id,
    item_kind,
    legal_limit,
    promised_limit,
    coalesce(limit_unit, 'workday') as limit_unit,
    cast(coalesce(promised_limit, legal_limit) as {{ dbt.type_int() }}) as limit_days,
    case
        when promised_limit is not null then 'promised'
        when legal_limit is not null then 'legal'
        else 'none'
    end as limit_source,
    fee_required,
    cast(max_extension_days as {{ dbt.type_int() }}) as max_extension_days,
    cast(deliver_limit as {{ dbt.type_int() }}) as deliver_limit,
    approval_mode
from rows
