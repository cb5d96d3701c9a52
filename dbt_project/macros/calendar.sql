{#- Working-day arithmetic, the one implementation every rule uses (docs/rules.md#working-days).

    int_calendar__days numbers the working days: workday_seq(d) = working days up to and including
    d. A rule joins that calendar on each date it needs (`left join calendar as x on x.date = …`,
    which gives x.workday_seq and x.is_workday) and then, with 民法典 art. 201 (the first day is
    not counted) and art. 203 (a period ending on a holiday ends on the next working day):
      working days d with a < d ≤ b        workdays_between(seq(a), seq(b))     = seq(b) − seq(a)
      the N-th working day after a          join_nth_workday_after(…, seq(a), N) = the working day
                                                                                   whose seq is seq(a) + N
      d, or the working day after it        join_workday_on_or_after(…, d)       = the working day whose
                                                                                   seq is seq(d) + (0 if d is one, else 1)
      the end of a deadline day             end_of_day(d)                        = d 23:59:59
    Equality joins, not scalar subqueries: a few million cases join the calendar faster than they
    run correlated subqueries. -#}

{#- Working days d with a < d ≤ b, from the workday_seq of a and of b (0 when b ≤ a). -#}
{% macro workdays_between(seq_a, seq_b) -%}
    greatest(0, ({{ seq_b }}) - ({{ seq_a }}))
{%- endmacro %}

{#- `left join` the working day whose workday_seq is seq_expr + n_expr as `alias` (alias.date),
    from `calendar` (int_calendar__days or a select of it with date, is_workday, workday_seq).
    With N ≥ 1 that is the N-th working day after the day whose seq is seq_expr; the rule decides
    what N = 0 means (an immediate item ends on its acceptance day, even a non-working one).
    `only_if`: an extra join condition (the rows the lookup applies to). -#}
{% macro join_nth_workday_after(calendar, alias, seq_expr, n_expr, only_if=none) -%}
    left join (select workday_seq, date from {{ calendar }} where is_workday) as {{ alias }}
        on {% if only_if %}({{ only_if }}) and {% endif %}{{ alias }}.workday_seq = ({{ seq_expr }}) + ({{ n_expr }})
{%- endmacro %}

{#- `left join` as `alias` the working day on or after the calendar day `day` (the alias of a
    joined calendar row): `day` itself when it is a working day, else the next working day
    (民法典 art. 203). -#}
{% macro join_workday_on_or_after(calendar, alias, day) -%}
    {{ join_nth_workday_after(calendar, alias, day ~ '.workday_seq', 'case when ' ~ day ~ '.is_workday then 0 else 1 end') }}
{%- endmacro %}

{#- The last day of a limit of N days counted from `start_date` (whose workday_seq is
    `start_seq`), the rule of docs/rules.md#deadline: workday units end on the N-th working day
    after the start (民法典 art. 201); calendar_day units on the N-th calendar day, moved to the next
    working day when it is not one (民法典 art. 203); N = 0 ends on the start day itself.
    join_deadline adds the `left join`s (aliases <alias>_wd, <alias>_last, <alias>_cal) and
    deadline_date(alias, …) is then the date (null when N is null). -#}
{% macro join_deadline(calendar, alias, start_date, start_seq, n_expr, unit_expr) -%}
    {{ join_nth_workday_after(calendar, alias ~ '_wd', start_seq, n_expr, only_if="(" ~ unit_expr ~ ") <> 'calendar_day'") }}
    left join {{ calendar }} as {{ alias }}_last
        on ({{ unit_expr }}) = 'calendar_day'
        and {{ alias }}_last.date = {{ add_days(n_expr, start_date) }}
    {{ join_workday_on_or_after(calendar, alias ~ '_cal', alias ~ '_last') }}
{%- endmacro %}
{% macro deadline_date(alias, start_date, n_expr, unit_expr) -%}
    case
        when ({{ n_expr }}) is null then null
        when ({{ n_expr }}) = 0 then {{ start_date }}
        when ({{ unit_expr }}) = 'calendar_day' then {{ alias }}_cal.date
        else {{ alias }}_wd.date
    end
{%- endmacro %}

{#- End of a day (23:59:59): deadlines are the end of their last day. -#}
{% macro end_of_day(date_expr) -%}
    {{ return(adapter.dispatch('end_of_day', 'windowwatch')(date_expr)) }}
{%- endmacro %}
{% macro default__end_of_day(date_expr) -%}
    {{ dbt.dateadd('second', 86399, 'cast((' ~ date_expr ~ ') as ' ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}
{#- dbt-spark's dateadd for seconds goes through to_unix_timestamp, which yields NULL for the
    wall-clock (TIMESTAMP_NTZ) timestamps we use; timestampadd keeps the type. -#}
{% macro spark__end_of_day(date_expr) -%}
    timestampadd(SECOND, 86399, cast(({{ date_expr }}) as timestamp))
{%- endmacro %}

{#- ISO weekday 1 = Monday … 7 = Sunday (engine-specific): int_calendar__days assumes Mon–Fri
    working days outside the official calendar and the calendar feed. -#}
{% macro iso_weekday(date_expr) -%}
    {{ return(adapter.dispatch('iso_weekday', 'windowwatch')(date_expr)) }}
{%- endmacro %}
{% macro default__iso_weekday(date_expr) -%}
    {{ exceptions.raise_compiler_error("iso_weekday: no implementation for adapter " ~ adapter.type() ~ " (macros/calendar.sql)") }}
{%- endmacro %}
{% macro duckdb__iso_weekday(date_expr) -%}
    isodow({{ date_expr }})
{%- endmacro %}
{% macro spark__iso_weekday(date_expr) -%}
    (((dayofweek({{ date_expr }}) + 5) % 7) + 1)
{%- endmacro %}

{#- One row per date from start to end inclusive, column date_day (engine-specific): the spine of
    int_calendar__days. The bounds are columns of the relation `bounds_relation` (start_col,
    end_col), one row. -#}
{% macro date_series(bounds_relation, start_col, end_col) -%}
    {{ return(adapter.dispatch('date_series', 'windowwatch')(bounds_relation, start_col, end_col)) }}
{%- endmacro %}
{% macro default__date_series(bounds_relation, start_col, end_col) -%}
    {{ exceptions.raise_compiler_error("date_series: no implementation for adapter " ~ adapter.type() ~ " (macros/calendar.sql)") }}
{%- endmacro %}
{% macro duckdb__date_series(bounds_relation, start_col, end_col) -%}
    select cast(unnest(generate_series(cast({{ start_col }} as timestamp), cast({{ end_col }} as timestamp), interval 1 day)) as date) as date_day
    from {{ bounds_relation }}
{%- endmacro %}
{% macro spark__date_series(bounds_relation, start_col, end_col) -%}
    select explode(sequence(cast({{ start_col }} as date), cast({{ end_col }} as date), interval 1 day)) as date_day
    from {{ bounds_relation }}
{%- endmacro %}
