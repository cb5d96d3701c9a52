{#- 视频复核 decisions as exported at the start of the run (windowwatch/supervision/export.py): typed, one
    row per flag_id (the store's primary key; nothing to deduplicate). int_video__flags prefers them over
    the feed's review_status (docs/rules.md#video). -#}
select
    cast(flag_id as {{ dbt.type_string() }}) as flag_id,
    cast(decision as {{ dbt.type_string() }}) as decision,
    cast(note as {{ dbt.type_string() }}) as note,
    cast(reviewer as {{ dbt.type_string() }}) as reviewer,
    cast(reviewed_at as {{ dbt.type_timestamp() }}) as reviewed_at,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(flag_type as {{ dbt.type_string() }}) as flag_type,
    cast(item_id as {{ dbt.type_bigint() }}) as item_id
from {{ source('video_reviews', 'decisions') }}
