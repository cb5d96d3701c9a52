{#- Windows as of the latest delivery that names them, with whether they are open on the as-of date. -#}
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
    (opened_on is null or opened_on <= {{ as_of_date() }})
        and (closed_on is null or closed_on > {{ as_of_date() }}) as is_open_on_as_of
from {{ ref('stg_landing__windows') }}
