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
                case when hall_days.is_workday then 'workday' else 'non_workday' end as day_kind,
                {{ time_of_day(rows ~ '.' ~ at) }} as hall_clock
            from {{ rows }}
            left join (
                select date, is_workday
                from {{ ref('int_calendar__days') }}
            ) as hall_days on hall_days.date = {{ rows }}.{{ at_date }}
        ) as hall_classified
        left join {{ ref('int_reference__hall_hours') }} as hours
            on hours.window_id = hall_classified.{{ window_id }} and hours.day_kind = hall_classified.day_kind
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
