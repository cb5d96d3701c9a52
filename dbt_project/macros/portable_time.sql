{#- Time, portably: exact differences between timestamps, adding days and months, times of day.

    Exact differences between two timestamps (second - first), engine-specific.

    DuckDB keeps dbt.datediff (date_diff: the number of unit boundaries crossed). dbt-spark's
    datediff for sub-day units reads microseconds out of the timestamp's text with a regular
    expression (NULL when the value has no fractional part) and uses to_unix_timestamp, which
    does not take wall-clock TIMESTAMP_NTZ values: on Spark these go through unix_micros /
    unix_seconds of the value read as UTC (the profile's session time zone), which counts the
    same boundaries. -#}
{% macro micros_between(first_ts, second_ts) -%}
    {{ return(adapter.dispatch('micros_between', 'windowwatch')(first_ts, second_ts)) }}
{%- endmacro %}
{% macro default__micros_between(first_ts, second_ts) -%}
    {{ dbt.datediff(first_ts, second_ts, 'microsecond') }}
{%- endmacro %}
{% macro spark__micros_between(first_ts, second_ts) -%}
    (unix_micros(cast({{ second_ts }} as timestamp_ltz)) - unix_micros(cast({{ first_ts }} as timestamp_ltz)))
{%- endmacro %}

{% macro seconds_between(first_ts, second_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'windowwatch')(first_ts, second_ts)) }}
{%- endmacro %}
{% macro default__seconds_between(first_ts, second_ts) -%}
    {{ dbt.datediff(first_ts, second_ts, 'second') }}
{%- endmacro %}
{% macro spark__seconds_between(first_ts, second_ts) -%}
    (unix_seconds(cast({{ second_ts }} as timestamp_ltz)) - unix_seconds(cast({{ first_ts }} as timestamp_ltz)))
{%- endmacro %}

{#- date + n days / months. DuckDB keeps dbt.dateadd (a TIMESTAMP at midnight); on Spark,
    dbt-spark's dateadd rebuilds the value through to_unix_timestamp, NULL for wall-clock
    TIMESTAMP_NTZ values, so date_add / add_months are used (a DATE, same day). -#}
{% macro add_days(n, date_expr) -%}
    {{ return(adapter.dispatch('add_days', 'windowwatch')(n, date_expr)) }}
{%- endmacro %}
{% macro default__add_days(n, date_expr) -%}
    {{ dbt.dateadd('day', n, date_expr) }}
{%- endmacro %}
{% macro spark__add_days(n, date_expr) -%}
    date_add(cast({{ date_expr }} as date), cast({{ n }} as int))
{%- endmacro %}

{% macro add_months(n, date_expr) -%}
    {{ return(adapter.dispatch('add_months', 'windowwatch')(n, date_expr)) }}
{%- endmacro %}
{% macro default__add_months(n, date_expr) -%}
    {{ dbt.dateadd('month', n, date_expr) }}
{%- endmacro %}
{% macro spark__add_months(n, date_expr) -%}
    add_months(cast({{ date_expr }} as date), cast({{ n }} as int))
{%- endmacro %}

{#- Time of day of a timestamp, comparable with the TIME columns of hall_hours. -#}
{% macro time_of_day(ts) -%}
    {{ return(adapter.dispatch('time_of_day', 'windowwatch')(ts)) }}
{%- endmacro %}

{% macro default__time_of_day(ts) -%}
    cast({{ ts }} as time)
{%- endmacro %}

{#- A TIME literal from a var ('HH:MM:SS'), or a typed null when the var is null (closed). -#}
{% macro time_literal(value) -%}
    {%- if value is none or value == '' -%}cast(null as time){%- else -%}cast('{{ value }}' as time){%- endif -%}
{%- endmacro %}
