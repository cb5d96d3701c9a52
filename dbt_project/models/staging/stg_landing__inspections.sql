{#- inspections: typed landing rows, one per inspection_id.
    Events: re-delivery of the same inspection_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'inspections') }}
),

typed as (
    select
        {{ dbt.safe_cast('inspection_id', dbt.type_string()) }} as inspection_id,
        {{ dbt.safe_cast('inspector_id', dbt.type_string()) }} as inspector_id,
        {{ dbt.safe_cast('center_id', dbt.type_string()) }} as center_id,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('inspected_at', dbt.type_timestamp()) }} as inspected_at,
        {{ dbt.safe_cast('method', dbt.type_string()) }} as method,
        {{ dbt.safe_cast('finding', dbt.type_string()) }} as finding,
        {{ dbt.safe_cast('deduction', type_double()) }} as deduction,
        {{ dbt.safe_cast('note', dbt.type_string()) }} as note,
        {{ dbt.safe_cast('recorded_at', dbt.type_timestamp()) }} as recorded_at,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by inspection_id order by coalesce(recorded_at, inspected_at) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    inspection_id,
    inspector_id,
    center_id,
    window_id,
    inspected_at,
    method,
    finding,
    deduction,
    note,
    recorded_at,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
