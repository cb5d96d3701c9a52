{#- Items as of the as-of date: per item_code the version in force on it (int_reference__item_versions,
    docs/rules.md#reference-versions), the rows of dim_item. A rule about a case reads the version in
    force on the case's acceptance date from int_reference__item_versions instead. -#}
select
    item_code,
    item_name,
    department_id,
    item_kind,
    legal_limit,
    promised_limit,
    limit_unit,
    limit_days,
    limit_source,
    fee_required,
    max_extension_days,
    deliver_limit,
    approval_mode
from {{ ref('int_reference__item_versions') }} as items
where {{ version_in_force('items', as_of_date()) }}
