{#- 明察暗访 / 一日三查 inspection records as published (SPEC v2 §4.10, §5); the rules (centre,
    department, has_finding) live in int_hall__inspections (docs/rules.md#inspections); the published
    columns are the contract in _hall__inspections.yml. -#}
select * from {{ ref('int_hall__inspections') }}
