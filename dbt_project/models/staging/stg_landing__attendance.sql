{#- attendance: typed landing rows, one per attendance_id.
    Events: re-delivery of the same attendance_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic). -#}
with source as (
    select * from {{ source('landing', 'attendance') }}
),

typed as (
    select
        {{ dbt.safe_cast('attendance_id', dbt.type_string()) }} as attendance_id,
        {{ dbt.safe_cast('staff_id', dbt.type_string()) }} as staff_id,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('work_date', 'date') }} as work_date,
        {{ dbt.safe_cast('sign_in_at', dbt.type_timestamp()) }} as sign_in_at,
        {{ dbt.safe_cast('sign_out_at', dbt.type_timestamp()) }} as sign_out_at,
        {{ dbt.safe_cast('absence_type', dbt.type_string()) }} as absence_type,
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
        row_number() over (partition by attendance_id order by coalesce(recorded_at, work_date) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from typed
)

select
    attendance_id,
    staff_id,
    window_id,
    work_date,
    sign_in_at,
    sign_out_at,
    absence_type,
    recorded_at,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
