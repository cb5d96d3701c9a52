{#- video_flags: typed landing rows, one per flag_id.
    Events: re-delivery of the same flag_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'video_flags') }}
),

typed as (
    select
        {{ dbt.safe_cast('flag_id', dbt.type_string()) }} as flag_id,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('camera_id', dbt.type_string()) }} as camera_id,
        {{ dbt.safe_cast('flagged_at', dbt.type_timestamp()) }} as flagged_at,
        {{ dbt.safe_cast('recorded_at', dbt.type_timestamp()) }} as recorded_at,
        {{ dbt.safe_cast('flag_type', dbt.type_string()) }} as flag_type,
        {{ dbt.safe_cast('source', dbt.type_string()) }} as source,
        {{ dbt.safe_cast('confidence', type_double()) }} as confidence,
        {{ dbt.safe_cast('review_status', dbt.type_string()) }} as review_status,
        {{ dbt.safe_cast('reviewed_at', dbt.type_timestamp()) }} as reviewed_at,
        {{ dbt.safe_cast('reviewer_id', dbt.type_string()) }} as reviewer_id,
        {{ dbt.safe_cast('clip_ref', dbt.type_string()) }} as clip_ref,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by flag_id order by coalesce(recorded_at, flagged_at) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    flag_id,
    window_id,
    camera_id,
    flagged_at,
    recorded_at,
    flag_type,
    source,
    confidence,
    review_status,
    reviewed_at,
    reviewer_id,
    clip_ref,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
