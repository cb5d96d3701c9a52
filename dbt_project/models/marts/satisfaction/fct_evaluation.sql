{#- 好差评 evaluations as published: the rules (good/bad, rectification deadline and its month, due,
    on time, late) live in int_satisfaction__evaluations (docs/rules.md#good-bad,
    #rectification); the published columns are the contract in _satisfaction.yml. A view over that
    table: its 2 M rows at city scale are stored once, and the published snapshot copies the whole
    DuckDB file, view and table together.
    department_id: the evaluated window's department in force on the evaluation's date
    (int_reference__window_versions, docs/rules.md#reference-versions), as a case's on its acceptance
    date. It is joined here, not stored in the incremental int_satisfaction__evaluations, so that
    table keeps its schema (on_schema_change='fail'). -#}
{{ config(materialized='view') }}
select
    evaluations.*,
    window_version.department_id
from {{ ref('int_satisfaction__evaluations') }} as evaluations
left join {{ ref('int_reference__window_versions') }} as window_version
    on window_version.window_id = evaluations.window_id
    and {{ version_in_force('window_version', 'cast(evaluations.evaluated_at as date)') }}
