{#- step_limits: typed landing rows, one per item_code, from_event, to_event.
    Reference snapshot: per item_code, from_event, to_event, the row of the latest delivery that has it
    (latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'step_limits') }}
),

typed as (
    select
        {{ dbt.safe_cast('item_code', dbt.type_string()) }} as item_code,
        {{ dbt.safe_cast('from_event', dbt.type_string()) }} as from_event,
        {{ dbt.safe_cast('to_event', dbt.type_string()) }} as to_event,
        {{ dbt.safe_cast('limit_workdays', dbt.type_bigint()) }} as limit_workdays,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by item_code, from_event, to_event order by _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    item_code,
    from_event,
    to_event,
    limit_workdays,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
