{#- The supervision store's transitions as exported at the start of the run (windowwatch/supervision/export.py):
    typed, one row per (item_id, seq); notes and reasons arrive scrubbed of ID-card and phone numbers. -#}
select
    cast(item_id as {{ dbt.type_bigint() }}) as item_id,
    cast(seq as {{ dbt.type_bigint() }}) as seq,
    cast(actor as {{ dbt.type_string() }}) as actor,
    cast(transitioned_at as {{ dbt.type_timestamp() }}) as transitioned_at,
    cast(from_state as {{ dbt.type_string() }}) as from_state,
    cast(to_state as {{ dbt.type_string() }}) as to_state,
    cast(action as {{ dbt.type_string() }}) as action,
    cast(note as {{ dbt.type_string() }}) as note,
    cast(reason as {{ dbt.type_string() }}) as reason
from {{ source('supervision', 'transitions') }}
