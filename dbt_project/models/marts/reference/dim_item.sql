{#- Government service items with the limit the timeliness rules use (the `items` feed; docs/rules.md#limit). -#}
select
    item_code,
    item_name,
    department_id,
    item_kind,
    cast(legal_limit as {{ dbt.type_int() }}) as legal_limit,
    cast(promised_limit as {{ dbt.type_int() }}) as promised_limit,
    limit_unit,
    limit_days,
    limit_source,
    fee_required
from {{ ref('int_reference__items') }}
