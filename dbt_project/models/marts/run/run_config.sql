{#- What the build ran with (one row): the as-of date, the scoring file's content hash (the file
    itself is kept at $WINDOWWATCH_HOME/state/scoring-used.yaml by windowwatch.transform.build)
    and whether any case's arithmetic used an assumed calendar day (docs/rules.md#assumed-calendar: say so loudly). -#}
select
    {{ as_of_date() }} as as_of_date,
    cast({{ "'" ~ var('scoring_hash') ~ "'" if var('scoring_hash', none) else 'null' }} as {{ dbt.type_string() }}) as scoring_hash,
    cast((select count(*) from {{ ref('fct_case') }} where uses_assumed_calendar) as {{ dbt.type_int() }}) as assumed_calendar_cases,
    cast((select count(*) from {{ ref('fct_case') }}) as {{ dbt.type_int() }}) as cases
