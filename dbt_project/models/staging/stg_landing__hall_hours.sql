{#- hall_hours: typed landing rows, one per scope_id, day_kind.
    Reference snapshot: per scope_id, day_kind, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'hall_hours') }}
),

typed as (
    select
        {{ dbt.safe_cast('scope_id', dbt.type_string()) }} as scope_id,
        {{ dbt.safe_cast('day_kind', dbt.type_string()) }} as day_kind,
        {{ dbt.safe_cast('open_time', 'time') }} as open_time,
        {{ dbt.safe_cast('close_time', 'time') }} as close_time,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by scope_id, day_kind order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    scope_id,
    day_kind,
    open_time,
    close_time,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
