{#- The hours of a window on a day (docs/rules.md#hall-hours): `rows` names a CTE with a window column and a
    DATE. Returns a subquery of its rows plus day_kind (workday / non_workday per int_calendar__days; 调休
    make-up days are working days), open_time and close_time (null, null: closed that day kind) - the
    window's own hall_hours row, else its centre's, else the scoring file's default (a window unknown to
    the windows feed gets the default). Shared by the outside-the-hours test below and the attendance
    rules (int_hall__attendance_window_day: a window-day is scheduled when the hours open). -#}
{% macro with_hall_hours(rows, window_id, at_date) -%}
(
    select
        hall_classified.*,
        case
            when hours.window_id is not null then hours.open_time
            when hall_classified.day_kind = 'workday' then {{ time_literal(var('default_workday_open')) }}
            else {{ time_literal(var('default_non_workday_open')) }}
        end as open_time,
        case
            when hours.window_id is not null then hours.close_time
            when hall_classified.day_kind = 'workday' then {{ time_literal(var('default_workday_close')) }}
            else {{ time_literal(var('default_non_workday_close')) }}
        end as close_time
    from (
        select
            {{ rows }}.*,
            case when hall_days.is_workday then 'workday' else 'non_workday' end as day_kind
        from {{ rows }}
        left join (
            select date, is_workday
            from {{ ref('int_calendar__days') }}
        ) as hall_days on hall_days.date = {{ rows }}.{{ at_date }}
    ) as hall_classified
    left join {{ ref('int_reference__hall_hours') }} as hours
        on hours.window_id = hall_classified.{{ window_id }} and hours.day_kind = hall_classified.day_kind
)
{%- endmacro %}

{#- Every day of some window-months through the as-of date: `window_months` names a CTE (or relation) with
    window_id and month (a first day); returns a subquery of window_id, month, date (int_calendar__days),
    ready for `with_hall_hours(…, 'window_id', 'date')` (the attendance window-days; the open hours of a month). -#}
{% macro days_of_window_months(window_months) -%}
(
    select
        window_months.window_id,
        window_months.month,
        calendar.date
    from {{ window_months }} as window_months
    inner join {{ ref('int_calendar__days') }} as calendar
        on calendar.date >= window_months.month
       and calendar.date < {{ add_months(1, 'window_months.month') }}
       and calendar.date <= {{ as_of_date() }}
)
{%- endmacro %}

{#- Outside the hall's hours (docs/rules.md#hall-hours, #ob-off-hours): the one definition OB_OFF_HOURS
    (int_off_book__off_hours, events) and RI_OFF_HOURS (int_rating_integrity__off_hours, ratings) share.

    `rows` names a CTE with a window column, a TIMESTAMP and its DATE. Returns a subquery of the rows
    that fall outside the hours of that window for the kind of day they fell on (working / non-working
    per int_calendar__days; 调休 make-up days are working days): time < open or time > close, or that
    day kind has no hours. Exactly the opening or closing time is inside. A window unknown to the
    windows feed gets the scoring file's default hours. Exemption: a row on a day with an
    `extended_service` row (延时服务, 事不办完不下班) for its window, at or before that row's until_time,
    is inside; the optional feed never delivered exempts nothing.
    Columns: those of `rows`, plus day_kind, open_time, close_time (null, null: closed that day kind) and
    hall_clock (the time of day compared). -#}
{% macro outside_hall_hours(rows, window_id, at, at_date) -%}
(
    select hall_with_hours.*
    from (
        select
            hall_on_day.*,
            {{ time_of_day('hall_on_day.' ~ at) }} as hall_clock
        from {{ with_hall_hours(rows, window_id, at_date) }} as hall_on_day
    ) as hall_with_hours
    left join (
        select window_id, service_date, max(until_time) as until_time
        from {{ ref('stg_landing__extended_service') }}
        where until_time is not null
        group by window_id, service_date
    ) as hall_extended
        on hall_extended.window_id = hall_with_hours.{{ window_id }} and hall_extended.service_date = hall_with_hours.{{ at_date }}
    where (hall_with_hours.open_time is null
           or hall_with_hours.close_time is null
           or hall_with_hours.hall_clock < hall_with_hours.open_time
           or hall_with_hours.hall_clock > hall_with_hours.close_time)
      and not coalesce(hall_with_hours.hall_clock <= hall_extended.until_time, false)
)
{%- endmacro %}
