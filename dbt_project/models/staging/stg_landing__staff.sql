{#- staff: typed landing rows, one per staff_id.
    Reference snapshot: per staff_id, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'staff') }}
),

typed as (
    select
        {{ dbt.safe_cast('staff_id', dbt.type_string()) }} as staff_id,
        {{ dbt.safe_cast('staff_name', dbt.type_string()) }} as staff_name,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('department_id', dbt.type_string()) }} as department_id,
        {{ dbt.safe_cast('active_from', 'date') }} as active_from,
        {{ dbt.safe_cast('active_to', 'date') }} as active_to,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by staff_id order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    staff_id,
    staff_name,
    window_id,
    department_id,
    active_from,
    active_to,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
