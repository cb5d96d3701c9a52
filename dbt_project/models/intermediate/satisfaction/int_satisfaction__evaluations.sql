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
      rectified as of the as-of date.
    v2 (SPEC §4.4; GB/T 39734-2020):
    - #default-ratings: a system-default rating (channel default, 系统默认评价) is no applicant's
      opinion: is_default, neither good nor bad, in no satisfaction figure (counted as default_ratings).
    - #appeals: appeal_result overturned (申诉复核 撤销差评) → is_overturned, no longer bad: out of
      bad_reviews, rectification, callback and the satisfaction denominator.
    - #verification: an applicant's bad rating (overturned or not) must be verified (核实) by the end of
      the `verify_workdays`-th working day after the evaluation day; due / on time as rectification.
    - #callback: a real-name bad review needing rectification and rectified must be called back (回访)
      by the end of the `callback_workdays`-th working day after the rectification day; a
      callback_result of unsatisfied (发回重办) makes the review not rectified. -#}
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
        {{ evaluation_as_of_dependent_ids(this, increment.lo, increment.hi) }}
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

classified as (
    select
        evaluations.*,
        coalesce(evaluations.channel = 'default', false) as is_default,
        coalesce(evaluations.appeal_result = 'overturned', false) as is_overturned,
        {#- an applicant's bad rating, before any appeal: what must be verified -#}
        coalesce(evaluations.rating <= 2, false) and coalesce(evaluations.channel, '') <> 'default'
            as is_bad_rating
    from evaluations
),

flagged as (
    select
        classified.*,
        coalesce(rating >= 4, false) and not is_default and not is_overturned as is_good,
        is_bad_rating and not is_overturned as is_bad,
        is_bad_rating and not is_overturned and coalesce(verdict, '') <> 'invalid' as needs_rectification
    from classified
),

with_deadline as (
    select
        flagged.*,
        flagged.needs_rectification and coalesce(flagged.is_real_name, false) and flagged.rectified_at is not null
            as needs_callback,
        coalesce(flagged.callback_result = 'unsatisfied', false) as is_sent_back,
        deadline_day.date as deadline_date,
        verification_day.date as verification_date,
        callback_day.date as callback_date
    from flagged
    left join days as evaluation_day
        on evaluation_day.date = cast(flagged.evaluated_at as date)
    {{ join_nth_workday_after('days', 'deadline_day', 'evaluation_day.workday_seq', var('rectify_workdays')) }}
    {{ join_nth_workday_after('days', 'verification_day', 'evaluation_day.workday_seq', var('verify_workdays'),
                              only_if='flagged.is_bad_rating') }}
    left join days as rectification_day
        on flagged.needs_rectification and flagged.is_real_name
       and rectification_day.date = cast(flagged.rectified_at as date)
    {{ join_nth_workday_after('days', 'callback_day', 'rectification_day.workday_seq', var('callback_workdays')) }}
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
    device_id,
    appeal_at,
    appeal_result,
    callback_result,
    cast({{ dbt.date_trunc('month', 'evaluated_at') }} as date) as evaluated_month,
    is_default,
    is_overturned,
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
    {#- 发回重办: an unsatisfied callback undoes the rectification -#}
    case when needs_rectification then
        coalesce(cast(rectified_at as date) <= deadline_date
                 and cast(rectified_at as date) <= {{ as_of_date() }}, false)
        and not is_sent_back
    end as is_rectified_on_time,
    needs_rectification
        and deadline_date < {{ as_of_date() }}
        and (rectified_at is null or cast(rectified_at as date) > {{ as_of_date() }} or is_sent_back)
        as is_rectification_late,
    is_bad_rating as needs_verification,
    case when is_bad_rating then {{ end_of_day('verification_date') }} end as verification_deadline,
    case when is_bad_rating then
        cast({{ dbt.date_trunc('month', 'verification_date') }} as date)
    end as verification_month,
    is_bad_rating and verification_date <= {{ as_of_date() }} as is_verification_due,
    case when is_bad_rating then
        coalesce(cast(verified_at as date) <= verification_date
                 and cast(verified_at as date) <= {{ as_of_date() }}, false)
    end as is_verified_on_time,
    needs_callback,
    case when needs_callback then {{ end_of_day('callback_date') }} end as callback_deadline,
    case when needs_callback then
        cast({{ dbt.date_trunc('month', 'callback_date') }} as date)
    end as callback_month,
    needs_callback and callback_date <= {{ as_of_date() }} as is_callback_due,
    case when needs_callback then
        coalesce(cast(callback_at as date) <= callback_date
                 and cast(callback_at as date) <= {{ as_of_date() }}, false)
    end as is_called_back_on_time
from with_deadline
