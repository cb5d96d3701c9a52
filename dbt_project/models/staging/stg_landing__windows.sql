{#- windows: typed landing rows, one per window_id, valid_from.
    Reference snapshot: per window_id, valid_from, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic).
    A row with valid_from is the version of its key from that date; rows without it are the
    version from the beginning (int_reference__*_versions: docs/rules.md#reference-versions). -#}
with source as (
    select * from {{ source('landing', 'windows') }}
),

typed as (
    select
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('window_name', dbt.type_string()) }} as window_name,
        {{ dbt.safe_cast('department_id', dbt.type_string()) }} as department_id,
        {{ dbt.safe_cast('department_name', dbt.type_string()) }} as department_name,
        {{ dbt.safe_cast('center_id', dbt.type_string()) }} as center_id,
        {{ dbt.safe_cast('center_name', dbt.type_string()) }} as center_name,
        {{ dbt.safe_cast('window_kind', dbt.type_string()) }} as window_kind,
        {{ dbt.safe_cast('opened_on', 'date') }} as opened_on,
        {{ dbt.safe_cast('closed_on', 'date') }} as closed_on,
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
        row_number() over (partition by window_id, valid_from order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

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
    valid_from,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
