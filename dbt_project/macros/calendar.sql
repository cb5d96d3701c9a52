{#- Working-day arithmetic (SPEC §4.1/4.2), the one implementation every rule uses.

    int_calendar__days numbers the working days: workday_seq(d) = working days up to and
    including d. Hence (民法典 art. 201: the first day is not counted)
      working days d with a < d ≤ b     = seq(b) − seq(a)
      the N-th working day after a      = the working day whose seq is seq(a) + N
                                          (= the first date with that seq)
    and assumed_seq does the same for days outside the official calendar and the feed.
    Two forms of the same arithmetic: scalar-subquery macros taking DATE / integer expressions
    (workdays_between, nth_workday_after, next_workday_on_or_after), and a join form for models
    over millions of rows (int_cases__*: join the calendar on the dates, then seq_difference and
    calendar_workday_by_seq). -#}

{#- Working days d with a < d ≤ b, from the two days' workday_seq (0 when b ≤ a). -#}
{% macro seq_difference(seq_a, seq_b) -%}
    greatest(0, ({{ seq_b }}) - ({{ seq_a }}))
{%- endmacro %}

{#- workday_seq → the working day with that number (join on workday_seq = seq(a) + N). -#}
{% macro calendar_workday_by_seq(calendar) -%}
    select workday_seq, date from {{ calendar }} where is_workday
{%- endmacro %}

{% macro calendar_relation() -%}{{ ref('int_calendar__days') }}{%- endmacro %}

{#- workday_seq of a date. -#}
{% macro workday_seq_of(date_expr) -%}
    (select max(cal_s.workday_seq) from {{ calendar_relation() }} cal_s where cal_s.date = ({{ date_expr }}))
{%- endmacro %}

{#- Number of working days d with a < d ≤ b (0 when b ≤ a). -#}
{% macro workdays_between(a_expr, b_expr) -%}
    {{ seq_difference(workday_seq_of(a_expr), workday_seq_of(b_expr)) }}
{%- endmacro %}

{#- The N-th working day after date a (N ≥ 1); a itself for N = 0 (即办: the acceptance day). -#}
{% macro nth_workday_after(a_expr, n_expr) -%}
    case
        when ({{ n_expr }}) = 0 then ({{ a_expr }})
        else (select min(cal_n.date) from {{ calendar_relation() }} cal_n
              where cal_n.workday_seq = {{ workday_seq_of(a_expr) }} + ({{ n_expr }}))
    end
{%- endmacro %}

{#- d if d is a working day, else the next working day (民法典 art. 203: a period ending on a
    holiday ends on the first day after it). -#}
{% macro next_workday_on_or_after(d_expr) -%}
    (select min(cal_w.date) from {{ calendar_relation() }} cal_w
     where cal_w.is_workday
       and cal_w.workday_seq = {{ workday_seq_of(d_expr) }}
           + (select case when max(cal_x.is_workday_int) = 1 then 0 else 1 end
              from {{ calendar_relation() }} cal_x where cal_x.date = ({{ d_expr }})))
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

{#- ISO weekday 1 = Monday … 7 = Sunday (engine-specific). -#}
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

{#- One row per date from start to end inclusive, column date_day (engine-specific). The bounds
    are columns of the relation `bounds_relation` (start_col, end_col), one row. -#}
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
