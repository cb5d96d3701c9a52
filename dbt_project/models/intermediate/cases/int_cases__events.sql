{#- Every transaction event that happened on or before the as-of date (the build is as of a date:
    later events are ignored), with its date. -#}
select
    event_id,
    case_id,
    event_type,
    event_time,
    cast(event_time as date) as event_date,
    coalesce(recorded_at, event_time) as recorded_at,
    window_id,
    staff_id,
    item_code,
    channel,
    extend_days
from {{ ref('stg_landing__transactions') }}
where event_time is not null
  and case_id is not null
  and cast(event_time as date) <= {{ as_of_date() }}
