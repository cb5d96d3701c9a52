{#- extended_service: typed landing rows, one per service_id.
    Events: re-delivery of the same service_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'extended_service') }}
),

typed as (
    select
        {{ dbt.safe_cast('service_id', dbt.type_string()) }} as service_id,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('service_date', 'date') }} as service_date,
        {{ dbt.safe_cast('until_time', 'time') }} as until_time,
        {{ dbt.safe_cast('reason', dbt.type_string()) }} as reason,
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
        row_number() over (partition by service_id order by coalesce(recorded_at, service_date) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    service_id,
    window_id,
    service_date,
    until_time,
    reason,
    recorded_at,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
