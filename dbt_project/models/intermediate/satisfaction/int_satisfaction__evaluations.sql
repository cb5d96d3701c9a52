{#- 好差评 evaluations (evaluated ≤ the as-of date) with the satisfaction rules (国办发〔2019〕51号
    《关于建立政务服务“好差评”制度提高政务服务水平的意见》), one row per evaluation_id; fct_evaluation
    publishes it, int_scoring__window_month_base counts it. Rules in docs/rules.md:
    - #good-bad: good 好评 = rating 5 or 4 (非常满意, 满意); bad 差评 = 2 or 1; 基本满意 (3) neither.
    - #rectification: a bad review not verified invalid must be rectified by the end of the
      `rectify_workdays`-th working day after the evaluation day (the evaluation day not counted,
      民法典 art. 201; macros/calendar.sql). It counts in the month its deadline falls in, and only
      once that deadline is ≤ the as-of date (a deadline still ahead is not due yet, so the running
      month holds only the reviews whose deadline has passed). Rectified on time means
      rectified_at ≤ the deadline and ≤ the as-of date; late means past the deadline and not
      rectified as of the as-of date. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='evaluation_id',
    on_schema_change='fail',
    pre_hook="{{ evaluation_pre_hook() }}",
    post_hook="{{ evaluation_post_hook() }}",
) }}
{#- Incremental on DuckDB: which rows a run rebuilds, and why that equals a full rebuild at the
    new as-of date, is in macros/incremental/README.md. -#}
{%- set increment = evaluation_increment() %}
with
{%- if increment.mode == 'some' %}
{#- the ids this run rebuilds (few; materialized so the join below starts from them) #}
scope as {{ materialized_cte() }} (
    select distinct evaluation_id from (
        {{ evaluation_unmerged_ids() }}
        union all
        select evaluation_id from {{ ref('stg_landing__evaluations') }}
        where cast(evaluated_at as date) > {{ increment.lo }} and cast(evaluated_at as date) <= {{ increment.hi }}
        union all
        select evaluation_id from {{ this }}
        where needs_rectification
          and (cast(rectification_deadline as date) between {{ increment.lo }} and {{ increment.hi }}
               or (cast(rectified_at as date) > {{ increment.lo }} and cast(rectified_at as date) <= {{ increment.hi }}))
    ) as ids
),
{%- endif %}

evaluations as (
    select stg.*
    from {{ ref('stg_landing__evaluations') }} as stg
    {%- if increment.mode == 'some' %}
    inner join scope on scope.evaluation_id = stg.evaluation_id
    {%- endif %}
    where cast(stg.evaluated_at as date) <= {{ as_of_date() }}
),

days as (
    select date, is_workday, workday_seq
    from {{ ref('int_calendar__days') }}
),

with_deadline as (
    select
        evaluations.*,
        coalesce(evaluations.rating >= 4, false) as is_good,
        coalesce(evaluations.rating <= 2, false) as is_bad,
        coalesce(evaluations.rating <= 2, false) and coalesce(evaluations.verdict, '') <> 'invalid'
            as needs_rectification,
        deadline_day.date as deadline_date
    from evaluations
    left join days as evaluation_day
        on evaluation_day.date = cast(evaluations.evaluated_at as date)
    {{ join_nth_workday_after('days', 'deadline_day', 'evaluation_day.workday_seq', var('rectify_workdays')) }}
)

select
    evaluation_id,
    case_id,
    window_id,
    staff_id,
    rating,
    channel,
    evaluated_at,
    recorded_at,
    round,
    reason_codes,
    comment,
    is_real_name,
    verified_at,
    verdict,
    rectified_at,
    callback_at,
    cast({{ dbt.date_trunc('month', 'evaluated_at') }} as date) as evaluated_month,
    is_good,
    is_bad,
    needs_rectification,
    case when needs_rectification then
        {{ end_of_day('deadline_date') }}
    end as rectification_deadline,
    case when needs_rectification then
        cast({{ dbt.date_trunc('month', 'deadline_date') }} as date)
    end as rectification_month,
    needs_rectification and deadline_date <= {{ as_of_date() }} as is_rectification_due,
    case when needs_rectification then
        coalesce(cast(rectified_at as date) <= deadline_date
                 and cast(rectified_at as date) <= {{ as_of_date() }}, false)
    end as is_rectified_on_time,
    needs_rectification
        and deadline_date < {{ as_of_date() }}
        and (rectified_at is null or cast(rectified_at as date) > {{ as_of_date() }})
        as is_rectification_late
from with_deadline
