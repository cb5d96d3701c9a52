{#- work_orders: typed landing rows, one per order_id.
    Events: re-delivery of the same order_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'work_orders') }}
),

typed as (
    select
        {{ dbt.safe_cast('order_id', dbt.type_string()) }} as order_id,
        {{ dbt.safe_cast('channel', dbt.type_string()) }} as channel,
        {{ dbt.safe_cast('category', dbt.type_string()) }} as category,
        {{ dbt.safe_cast('received_at', dbt.type_timestamp()) }} as received_at,
        {{ dbt.safe_cast('department_id', dbt.type_string()) }} as department_id,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('due_at', dbt.type_timestamp()) }} as due_at,
        {{ dbt.safe_cast('responded_at', dbt.type_timestamp()) }} as responded_at,
        {{ dbt.safe_cast('closed_at', dbt.type_timestamp()) }} as closed_at,
        {{ dbt.safe_cast('substantiated', dbt.type_boolean()) }} as substantiated,
        {{ dbt.safe_cast('requester_satisfaction', dbt.type_string()) }} as requester_satisfaction,
        {{ dbt.safe_cast('content', dbt.type_string()) }} as content,
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
        row_number() over (partition by order_id order by coalesce(recorded_at, received_at) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    order_id,
    channel,
    category,
    received_at,
    department_id,
    window_id,
    due_at,
    responded_at,
    closed_at,
    substantiated,
    requester_satisfaction,
    content,
    recorded_at,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
