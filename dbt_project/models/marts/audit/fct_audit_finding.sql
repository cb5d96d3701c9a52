{#- Findings of the double-random audit (docs/rules.md#audit, 一单两库: per sampled case, problem codes, notes,
    inspectors), as recorded by `windowwatch audit findings add` in the hash-chained audit log and
    mirrored to $WINDOWWATCH_HOME/audit/findings.parquet (windowwatch/audit/findings.py).
    recorded_at arrives as ISO 8601 text with the +08:00 offset; it is published as local time. -#}
select
    cast(finding_id as {{ dbt.type_string() }}) as finding_id,
    cast(draw_id as {{ dbt.type_string() }}) as draw_id,
    cast(case_id as {{ dbt.type_string() }}) as case_id,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(department_id as {{ dbt.type_string() }}) as department_id,
    cast(problem_codes as {{ dbt.type_string() }}) as problem_codes,
    cast(has_problem as {{ dbt.type_boolean() }}) as has_problem,
    cast(note as {{ dbt.type_string() }}) as note,
    cast(inspectors as {{ dbt.type_string() }}) as inspectors,
    {{ dbt.safe_cast("replace(substring(recorded_at, 1, 19), 'T', ' ')", dbt.type_timestamp()) }} as recorded_at,
    cast(recorded_by as {{ dbt.type_string() }}) as recorded_by,
    cast(entry_hash as {{ dbt.type_string() }}) as entry_hash
from {{ source('audit', 'findings') }}
