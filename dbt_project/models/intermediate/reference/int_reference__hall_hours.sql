{#- Opening hours per window and day kind (docs/rules.md#hall-hours; the hall_hours feed). Per day kind, a row whose scope_id
    is the window wins over a row for its centre, which wins over the default of the scoring file
    (working days 08:30–18:00, closed on non-working days). A row with a null open or close time
    means closed that kind of day. One row per window × day kind. -#}
with windows as (
    select window_id, center_id
    from {{ ref('int_reference__windows') }}
),

day_kinds as (
    select 'workday' as day_kind,
        {{ time_literal(var('default_workday_open')) }} as default_open,
        {{ time_literal(var('default_workday_close')) }} as default_close
    union all
    select 'non_workday' as day_kind,
        {{ time_literal(var('default_non_workday_open')) }} as default_open,
        {{ time_literal(var('default_non_workday_close')) }} as default_close
),

hours as (
    select scope_id, day_kind, open_time, close_time
    from {{ ref('stg_landing__hall_hours') }}
)

select
    windows.window_id,
    windows.center_id,
    day_kinds.day_kind,
    case
        when window_hours.scope_id is not null then window_hours.open_time
        when center_hours.scope_id is not null then center_hours.open_time
        else day_kinds.default_open
    end as open_time,
    case
        when window_hours.scope_id is not null then window_hours.close_time
        when center_hours.scope_id is not null then center_hours.close_time
        else day_kinds.default_close
    end as close_time,
    case
        when window_hours.scope_id is not null then 'window'
        when center_hours.scope_id is not null then 'center'
        else 'default'
    end as hours_source
from windows
cross join day_kinds
left join hours as window_hours
    on window_hours.scope_id = windows.window_id and window_hours.day_kind = day_kinds.day_kind
left join hours as center_hours
    on center_hours.scope_id = windows.center_id and center_hours.day_kind = day_kinds.day_kind
