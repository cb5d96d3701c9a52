{#- 排队叫号 per business type and month (SPEC v2 §4.10 Queue and 窗口动态增减; docs/rules.md#queue,
    #window-adjustment): one row per business_type and month with at least one ticket (a ticket without
    a business_type is in no row here; it still counts at its window and department).
    - The queue figures of all the type's tickets, called or not: macros/hall_queue.sql.
    - current_windows: the distinct windows that called a ticket of the type that month - the windows
      serving it.
    - open_window_hours: the open hours that month of those windows (SPEC: hall hours × scheduled days):
      for each window, every day of the month up to the as-of date (`days_of_window_months`) on which
      its hall hours open (`with_hall_hours`, both macros/hall_hours.sql; the day kinds of
      int_calendar__days - the scheduled days of the attendance rules), close − open in hours, summed
      over the days and the windows. A window serving two types counts its hours for each.
    - served_per_window_hour = served / open_window_hours; null when the windows had no open hour
      (e.g. the month so far is a holiday). -#}
with tickets as (
    select *
    from {{ ref('int_hall__queue_tickets') }}
    where business_type is not null
),

figures as (
    select
        month,
        business_type,
        {{ queue_month_figures() }}
    from tickets
    group by month, business_type
),

type_windows as (
    select distinct month, business_type, window_id
    from tickets
    where window_id is not null
),

window_months as (
    select distinct window_id, month
    from type_windows
),

window_days as (
    select * from {{ days_of_window_months('window_months') }} as days
),

window_hours as (
    select
        window_id,
        month,
        sum(
            case
                when open_time is not null and close_time is not null and close_time > open_time
                    then cast({{ seconds_of_day('close_time') }} - {{ seconds_of_day('open_time') }} as {{ type_double() }}) / 3600
                else 0
            end
        ) as open_hours
    from {{ with_hall_hours('window_days', 'window_id', 'date') }} as day_hours
    group by window_id, month
),

type_hours as (
    select
        type_windows.month,
        type_windows.business_type,
        count(*) as current_windows,
        sum(coalesce(window_hours.open_hours, 0)) as open_window_hours
    from type_windows
    left join window_hours
        on window_hours.window_id = type_windows.window_id and window_hours.month = type_windows.month
    group by type_windows.month, type_windows.business_type
)

select
    figures.month,
    figures.business_type,
    figures.tickets,
    figures.served,
    figures.no_shows,
    figures.cancelled,
    figures.no_show_rate,
    figures.avg_wait_minutes,
    figures.p90_wait_minutes,
    figures.avg_service_minutes,
    coalesce(type_hours.current_windows, 0) as current_windows,
    coalesce(type_hours.open_window_hours, 0) as open_window_hours,
    case
        when type_hours.open_window_hours > 0
            then cast(figures.served as {{ type_double() }}) / type_hours.open_window_hours
    end as served_per_window_hour
from figures
left join type_hours
    on type_hours.month = figures.month and type_hours.business_type = figures.business_type
