{#- Service windows (the `windows` feed, latest delivery per window). -#}
select
    window_id,
    window_name,
    department_id,
    department_name,
    center_id,
    center_name,
    window_kind,
    opened_on,
    closed_on,
    is_open_on_as_of
from {{ ref('int_reference__windows') }}
