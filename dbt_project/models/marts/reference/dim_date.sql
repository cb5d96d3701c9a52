{#- The calendar every rule uses (docs/rules.md#working-days). -#}
select
    date,
    is_workday,
    is_assumed,
    holiday_name,
    source,
    holiday_name_en,
    is_makeup_workday,
    cast(workday_seq as {{ dbt.type_int() }}) as workday_seq
from {{ ref('int_calendar__days') }}
