{#- items: typed landing rows, one per item_code, valid_from.
    Reference snapshot: per item_code, valid_from, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic).
    A row with valid_from is the version of its key from that date; rows without it are the
    version from the beginning (int_reference__*_versions: docs/rules.md#reference-versions). -#}
with source as (
    select * from {{ source('landing', 'items') }}
),

typed as (
    select
        {{ dbt.safe_cast('item_code', dbt.type_string()) }} as item_code,
        {{ dbt.safe_cast('item_name', dbt.type_string()) }} as item_name,
        {{ dbt.safe_cast('department_id', dbt.type_string()) }} as department_id,
        {{ dbt.safe_cast('item_kind', dbt.type_string()) }} as item_kind,
        {{ dbt.safe_cast('legal_limit', dbt.type_bigint()) }} as legal_limit,
        {{ dbt.safe_cast('promised_limit', dbt.type_bigint()) }} as promised_limit,
        {{ dbt.safe_cast('limit_unit', dbt.type_string()) }} as limit_unit,
        {{ dbt.safe_cast('fee_required', dbt.type_boolean()) }} as fee_required,
        {{ dbt.safe_cast('max_extension_days', dbt.type_bigint()) }} as max_extension_days,
        {{ dbt.safe_cast('deliver_limit', dbt.type_bigint()) }} as deliver_limit,
        {{ dbt.safe_cast('approval_mode', dbt.type_string()) }} as approval_mode,
        {{ dbt.safe_cast('valid_from', 'date') }} as valid_from,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by item_code, valid_from order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

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
    valid_from,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
