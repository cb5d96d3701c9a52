{#- queue_tickets: typed landing rows, one per ticket_id.
    Events: re-delivery of the same ticket_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'queue_tickets') }}
),

typed as (
    select
        {{ dbt.safe_cast('ticket_id', dbt.type_string()) }} as ticket_id,
        {{ dbt.safe_cast('center_id', dbt.type_string()) }} as center_id,
        {{ dbt.safe_cast('business_type', dbt.type_string()) }} as business_type,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('issued_at', dbt.type_timestamp()) }} as issued_at,
        {{ dbt.safe_cast('called_at', dbt.type_timestamp()) }} as called_at,
        {{ dbt.safe_cast('served_at', dbt.type_timestamp()) }} as served_at,
        {{ dbt.safe_cast('finished_at', dbt.type_timestamp()) }} as finished_at,
        {{ dbt.safe_cast('status', dbt.type_string()) }} as status,
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
        row_number() over (partition by ticket_id order by coalesce(recorded_at, issued_at) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    ticket_id,
    center_id,
    business_type,
    window_id,
    issued_at,
    called_at,
    served_at,
    finished_at,
    status,
    recorded_at,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
