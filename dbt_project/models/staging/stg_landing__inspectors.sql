{#- inspectors: typed landing rows, one per inspector_id.
    Reference snapshot: per inspector_id, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'inspectors') }}
),

typed as (
    select
        {{ dbt.safe_cast('inspector_id', dbt.type_string()) }} as inspector_id,
        {{ dbt.safe_cast('inspector_name', dbt.type_string()) }} as inspector_name,
        {{ dbt.safe_cast('department_id', dbt.type_string()) }} as department_id,
        {{ dbt.safe_cast('qualifications', dbt.type_string()) }} as qualifications,
        {{ dbt.safe_cast('active', dbt.type_boolean()) }} as active,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by inspector_id order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    inspector_id,
    inspector_name,
    department_id,
    qualifications,
    active,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
