{#- 好差评 evaluations as published: the rules (good/bad, rectification deadline and its month, due,
    on time, late) live in int_satisfaction__evaluations (docs/rules.md#good-bad,
    #rectification); the published columns are the contract in _satisfaction.yml. A view over that
    table: its 2 M rows at city scale are stored once, and the published snapshot copies the whole
    DuckDB file, view and table together. -#}
{{ config(materialized='view') }}
select * from {{ ref('int_satisfaction__evaluations') }}
