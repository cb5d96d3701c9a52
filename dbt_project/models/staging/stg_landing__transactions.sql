{#- transactions: typed landing rows, one per event_id.
    Events: re-delivery of the same event_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'transactions') }}
),

typed as (
    select
        {{ typed_landing_columns('transactions') }}
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
