{#- 排队叫号 queue figures (SPEC v2 §4.10 Queue; docs/rules.md#queue): the one definition the window-month,
    department-month and business-type-month models and fct_queue_month share. Aggregates over rows of
    int_hall__queue_tickets (is_served, is_no_show, is_cancelled, wait_minutes, service_minutes):
    - tickets: every ticket issued that month (any status); served 已办理, no_shows 过号, cancelled 取消.
    - no_show_rate 过号率 = no_shows / (tickets − cancelled): a ticket the applicant cancelled was never
      called, so it can be no 过号; null when every ticket was cancelled (or there is none).
    - avg_wait_minutes / p90_wait_minutes: over the served tickets' waits (called_at − issued_at; the
      other tickets have none). p90 = the smallest wait w with at least 90 % of the waits ≤ w — the
      discrete percentile (percentile_disc, the same on DuckDB and Spark), never an interpolated one:
      with 10 waits it is the 9th smallest, with 11 the 10th. Null without any served wait.
    - avg_service_minutes: over finished_at − served_at of the served tickets.
    The averages are exact sums of whole milliseconds (integers) divided once: a parallel avg() of
    doubles differs in its last bits from run to run, and a rebuild must give the same marts
    (tests/windowwatch/test_faults_transform.py). Rounding that avg to 9 decimals was not enough: a mean
    that is a short binary fraction (15.4861328125) sits on the rounding boundary and came out
    …813 in one city build and …812 in another (session 10). -#}
{% macro queue_month_figures() -%}
count(*) as tickets,
        sum(case when is_served then 1 else 0 end) as served,
        sum(case when is_no_show then 1 else 0 end) as no_shows,
        sum(case when is_cancelled then 1 else 0 end) as cancelled,
        case when count(*) > sum(case when is_cancelled then 1 else 0 end)
            then cast(sum(case when is_no_show then 1 else 0 end) as {{ type_double() }})
                / (count(*) - sum(case when is_cancelled then 1 else 0 end))
        end as no_show_rate,
        round({{ exact_mean_minutes('wait_minutes') }}, 9) as avg_wait_minutes,
        percentile_disc(0.9) within group (order by wait_minutes) as p90_wait_minutes,
        round({{ exact_mean_minutes('service_minutes') }}, 9) as avg_service_minutes
{%- endmacro %}

{#- The mean of a minutes column as (sum of its whole milliseconds) / count / 60000: integer sums do not
    depend on the order a parallel aggregate adds them in. Null when the column has no value. -#}
{% macro exact_mean_minutes(column) -%}
cast(sum(cast(round({{ column }} * 60000) as bigint)) as {{ type_double() }}) / count({{ column }}) / 60000
{%- endmacro %}

{#- Seconds since midnight of a TIME value (hall_hours open / close), portable (DuckDB, Spark TIME). -#}
{% macro seconds_of_day(time_expr) -%}
(extract(hour from {{ time_expr }}) * 3600 + extract(minute from {{ time_expr }}) * 60 + extract(second from {{ time_expr }}))
{%- endmacro %}

{#- The month interface rows of one grain (`key`: window_id or department_id, a column of
    int_hall__queue_tickets): one row per key and month with a ticket of that key, the published figures
    of int_hall__queue_window_month / int_hall__queue_department_month. -#}
{% macro queue_month_rows(key) -%}
select
    month,
    {{ key }},
    tickets,
    served,
    no_show_rate,
    avg_wait_minutes,
    p90_wait_minutes,
    avg_service_minutes
from (
    select
        month,
        {{ key }},
        {{ queue_month_figures() }}
    from {{ ref('int_hall__queue_tickets') }}
    where {{ key }} is not null
    group by month, {{ key }}
) as figures
{%- endmacro %}
