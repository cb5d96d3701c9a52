{#- The supervision store's items as exported at the start of the run (windowwatch/supervision/export.py):
    typed, one row per item_id (the export is a full snapshot with the store's primary key; nothing to
    deduplicate). -#}
select
    cast(item_id as {{ dbt.type_bigint() }}) as item_id,
    cast(kind as {{ dbt.type_string() }}) as kind,
    cast(subject_id as {{ dbt.type_string() }}) as subject_id,
    cast(rule as {{ dbt.type_string() }}) as rule,
    cast(state as {{ dbt.type_string() }}) as state,
    cast(department_id as {{ dbt.type_string() }}) as department_id,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(trigger_at as {{ dbt.type_timestamp() }}) as trigger_at,
    cast(opened_at as {{ dbt.type_timestamp() }}) as opened_at,
    cast(notified_at as {{ dbt.type_timestamp() }}) as notified_at,
    cast(reply_by as {{ dbt.type_timestamp() }}) as reply_by,
    cast(fix_by as {{ dbt.type_timestamp() }}) as fix_by,
    cast(acknowledged_at as {{ dbt.type_timestamp() }}) as acknowledged_at,
    cast(rectified_at as {{ dbt.type_timestamp() }}) as rectified_at,
    cast(escalated_at as {{ dbt.type_timestamp() }}) as escalated_at,
    cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
    cast(close_reason as {{ dbt.type_string() }}) as close_reason,
    cast(trigger_cleared as {{ dbt.type_boolean() }}) as trigger_cleared,
    cast(trigger_cleared_at as {{ dbt.type_timestamp() }}) as trigger_cleared_at,
    cast(version as {{ dbt.type_bigint() }}) as version,
    cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
    cast(updated_by as {{ dbt.type_string() }}) as updated_by
from {{ source('supervision', 'items') }}
