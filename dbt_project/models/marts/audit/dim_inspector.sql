{#- The inspector pool 执法检查人员名录库 of the double-random audit (docs/rules.md#audit, `inspectors` feed,
    latest delivery per inspector). `active` not given counts as active: the 名录库 lists serving
    inspectors, only an explicit false retires one (windowwatch/audit/pools.py draws from this). -#}
select
    cast(inspector_id as {{ dbt.type_string() }}) as inspector_id,
    cast(inspector_name as {{ dbt.type_string() }}) as inspector_name,
    cast(department_id as {{ dbt.type_string() }}) as department_id,
    cast(qualifications as {{ dbt.type_string() }}) as qualifications,
    cast(coalesce(active, true) as {{ dbt.type_boolean() }}) as active
from {{ ref('stg_landing__inspectors') }}
