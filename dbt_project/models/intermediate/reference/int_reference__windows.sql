{#- Windows as of the as-of date: per window_id the version in force on it (int_reference__window_versions,
    docs/rules.md#reference-versions), the rows of dim_window, with whether they are open on the as-of
    date. A case's department is the version in force on its acceptance date, a window-month's on the
    month's first day (int_cases__case_facts, int_scoring__window_month_base). -#}
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
from {{ ref('int_reference__window_versions') }} as windows
where {{ version_in_force('windows', as_of_date()) }}
