{#- calendar: typed landing rows, one per date.
    Reference snapshot: per date, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'calendar') }}
),

typed as (
    select
        {{ dbt.safe_cast('date', 'date') }} as date,
        {{ dbt.safe_cast('is_workday', dbt.type_boolean()) }} as is_workday,
        {{ dbt.safe_cast('note', dbt.type_string()) }} as note,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by date order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    date,
    is_workday,
    note,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
