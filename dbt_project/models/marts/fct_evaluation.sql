{#- 好差评 (SPEC §4.4, 国办发〔2019〕51号): the cleaned evaluations feed (evaluated ≤ the as-of date)
    plus good/bad and the rectification of bad reviews. A bad review not verified invalid must be
    rectified by the end of the `rectify_workdays`-th working day after the evaluation day; it
    counts in the month its deadline falls in, and only once that deadline is ≤ the as-of date
    (a deadline still ahead is not due yet, so the running month holds only the reviews whose
    deadline has passed). Rectified means rectified_at ≤ the deadline and ≤ the as-of date. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='evaluation_id',
    on_schema_change='fail',
    pre_hook="{{ evaluation_pre_hook() }}",
    post_hook="{{ evaluation_post_hook() }}",
) }}
{#- Incremental on DuckDB: which rows a run rebuilds, and why that equals a full rebuild at the
    new as-of date, is in macros/evaluation_increment.sql. -#}
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

{#- The N-th working day after the evaluation day = the working day whose workday_seq is
    seq(evaluation day) + N: the arithmetic of macros/calendar.sql nth_workday_after, written as
    two equality joins because the macro's scalar subqueries are slow over many rows. -#}
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
    left join days as deadline_day
        on deadline_day.is_workday
       and deadline_day.workday_seq = evaluation_day.workday_seq + {{ var('rectify_workdays') }}
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
