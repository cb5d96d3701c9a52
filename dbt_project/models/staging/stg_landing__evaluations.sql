{#- evaluations: typed landing rows, one per evaluation_id.
    Events: re-delivery of the same evaluation_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'evaluations') }}
),

typed as (
    select
        {{ dbt.safe_cast('evaluation_id', dbt.type_string()) }} as evaluation_id,
        {{ dbt.safe_cast('case_id', dbt.type_string()) }} as case_id,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('staff_id', dbt.type_string()) }} as staff_id,
        {{ dbt.safe_cast('rating', 'tinyint') }} as rating,
        {{ dbt.safe_cast('channel', dbt.type_string()) }} as channel,
        {{ dbt.safe_cast('evaluated_at', dbt.type_timestamp()) }} as evaluated_at,
        {{ dbt.safe_cast('recorded_at', dbt.type_timestamp()) }} as recorded_at,
        {{ dbt.safe_cast('round', dbt.type_bigint()) }} as round,
        {{ dbt.safe_cast('reason_codes', dbt.type_string()) }} as reason_codes,
        {{ dbt.safe_cast('comment', dbt.type_string()) }} as comment,
        {{ dbt.safe_cast('is_real_name', dbt.type_boolean()) }} as is_real_name,
        {{ dbt.safe_cast('verified_at', dbt.type_timestamp()) }} as verified_at,
        {{ dbt.safe_cast('verdict', dbt.type_string()) }} as verdict,
        {{ dbt.safe_cast('rectified_at', dbt.type_timestamp()) }} as rectified_at,
        {{ dbt.safe_cast('callback_at', dbt.type_timestamp()) }} as callback_at,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by evaluation_id order by coalesce(recorded_at, evaluated_at) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    evaluation_id,
    case_id,
    window_id,
    staff_id,
    rating,
    channel,
    evaluated_at,
    recorded_at,
    round,
    reason_codes,
    comment,
    is_real_name,
    verified_at,
    verdict,
    rectified_at,
    callback_at,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
