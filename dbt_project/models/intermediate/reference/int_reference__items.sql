{#- Items with the limit every timeliness rule uses (docs/rules.md#limit; 行政许可法 art. 42):
    limit_days = promised_limit (承诺时限), or the legal_limit (法定时限) when no promise is given;
    both missing → null (such cases get no deadline, no card and stay out of the rates).
    limit_unit defaults to workday (行政许可法 counts 工作日). -#}
select
    item_code,
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
    fee_required
from {{ ref('stg_landing__items') }}
