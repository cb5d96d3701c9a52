{#- dept_volumes: typed landing rows, one per department_id, month.
    Reference snapshot: per department_id, month, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'dept_volumes') }}
),

typed as (
    select
        {{ dbt.safe_cast('department_id', dbt.type_string()) }} as department_id,
        {{ dbt.safe_cast('month', 'date') }} as month,
        {{ dbt.safe_cast('reported_cases', dbt.type_bigint()) }} as reported_cases,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by department_id, month order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    department_id,
    month,
    reported_cases,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
