{#- Window staff 工作人员 (the `staff` feed, latest delivery per staff member): who served at which
    window when — the staff_id of fct_case_event resolves here. -#}
select
    cast(staff_id as {{ dbt.type_string() }}) as staff_id,
    cast(staff_name as {{ dbt.type_string() }}) as staff_name,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(department_id as {{ dbt.type_string() }}) as department_id,
    cast(active_from as date) as active_from,
    cast(active_to as date) as active_to
from {{ ref('stg_landing__staff') }}
