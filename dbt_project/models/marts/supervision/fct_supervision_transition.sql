{#- 督办 transitions (SPEC §4.11, §5; docs/rules.md#supervision-marts): one row per transition of an item,
    as exported at the start of the run — who did what, when, from which state to which, with the note
    (staff's free text, ID-card and phone numbers scrubbed on export) — plus the item's department and
    window, so a department's history can be read without a join. -#}
select
    cast(t.item_id as {{ dbt.type_bigint() }}) as item_id,
    cast(t.seq as {{ dbt.type_bigint() }}) as seq,
    cast(t.transitioned_at as {{ dbt.type_timestamp() }}) as transitioned_at,
    cast(t.actor as {{ dbt.type_string() }}) as actor,
    cast(t.action as {{ dbt.type_string() }}) as action,
    cast(t.from_state as {{ dbt.type_string() }}) as from_state,
    cast(t.to_state as {{ dbt.type_string() }}) as to_state,
    cast(t.note as {{ dbt.type_string() }}) as note,
    cast(t.reason as {{ dbt.type_string() }}) as reason,
    cast(i.department_id as {{ dbt.type_string() }}) as department_id,
    cast(i.window_id as {{ dbt.type_string() }}) as window_id
from {{ ref('stg_supervision__transitions') }} as t
left join {{ ref('stg_supervision__items') }} as i on i.item_id = t.item_id
