{#- transactions: typed landing rows, one per event_id.
    Events: re-delivery of the same event_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'transactions') }}
),

typed as (
    select
        {{ dbt.safe_cast('event_id', dbt.type_string()) }} as event_id,
        {{ dbt.safe_cast('case_id', dbt.type_string()) }} as case_id,
        {{ dbt.safe_cast('event_type', dbt.type_string()) }} as event_type,
        {{ dbt.safe_cast('event_time', dbt.type_timestamp()) }} as event_time,
        {{ dbt.safe_cast('recorded_at', dbt.type_timestamp()) }} as recorded_at,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('staff_id', dbt.type_string()) }} as staff_id,
        {{ dbt.safe_cast('item_code', dbt.type_string()) }} as item_code,
        {{ dbt.safe_cast('channel', dbt.type_string()) }} as channel,
        {{ dbt.safe_cast('extend_days', dbt.type_bigint()) }} as extend_days,
        {{ dbt.safe_cast('applicant_id_hmac', dbt.type_string()) }} as applicant_id_hmac,
        {{ dbt.safe_cast('applicant_phone_hmac', dbt.type_string()) }} as applicant_phone_hmac,
        {{ dbt.safe_cast('fee_amount', type_double()) }} as fee_amount,
        {{ dbt.safe_cast('fee_paid_at_center', dbt.type_boolean()) }} as fee_paid_at_center,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by event_id order by coalesce(recorded_at, event_time) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    event_id,
    case_id,
    event_type,
    event_time,
    recorded_at,
    window_id,
    staff_id,
    item_code,
    channel,
    extend_days,
    applicant_id_hmac,
    applicant_phone_hmac,
    fee_amount,
    fee_paid_at_center,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
