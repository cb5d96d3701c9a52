{#- RI_NO_SERVICE 无服务评价 (SPEC §4.9, docs/rules.md#ri-no-service): an in-hall rating with no transactions
    event (any step of any case, int_cases__events: on or before the as-of date) at the rating's window
    within ± `ri_service_minutes` (30) of evaluated_at, both ends included (an event exactly 30 min away
    is service; 30 min + 1 s is not). A rating on the hall pad is given right after being served at that
    window: one with nobody served around it was pressed by someone else (刷好评). Events after the as-of
    date are not seen yet: a rating in the last half hour of the as-of date is judged on the events so
    far, and the next day's build judges it again (every run rebuilds this table).

    No range join over 13 M events: time is cut into buckets of exactly ri_service_minutes, and per
    window and bucket only the first and last event time are kept (one hash aggregation). An event
    within ± the span of a rating in bucket b lies in b − 1, b or b + 1: any event of b is less than
    the span away; of b − 1 the last is the nearest, of b + 1 the first. Three equi-joins decide it
    exactly, on DuckDB and Spark alike. -#}
{%- set span_seconds = (var('ri_service_minutes') | int) * 60 %}
{%- set epoch = "cast('2000-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")" %}
with ratings as (
    select
        evaluation_id,
        window_id,
        month,
        evaluated_at,
        evaluated_date,
        floor({{ seconds_between(epoch, 'evaluated_at') }} / {{ span_seconds }}) as bucket
    from {{ ref('int_rating_integrity__ratings') }}
    where is_in_hall
),

event_buckets as {{ materialized_cte() }} (
    select
        window_id,
        floor({{ seconds_between(epoch, 'event_time') }} / {{ span_seconds }}) as bucket,
        min(event_time) as first_at,
        max(event_time) as last_at
    from {{ ref('int_cases__events') }}
    where window_id is not null
    group by 1, 2
),

{#- most ratings have an event in their own bucket: only the others look at the buckets beside it #}
unserved as (
    select ratings.*
    from ratings
    left join event_buckets as same_bucket
        on same_bucket.window_id = ratings.window_id and same_bucket.bucket = ratings.bucket
    where same_bucket.window_id is null
),

nearest as (
    select
        unserved.*,
        before.last_at as before_at,
        after.first_at as after_at
    from unserved
    left join event_buckets as before
        on before.window_id = unserved.window_id and before.bucket = unserved.bucket - 1
    left join event_buckets as after
        on after.window_id = unserved.window_id and after.bucket = unserved.bucket + 1
)

select
    evaluation_id,
    window_id,
    month,
    'RI_NO_SERVICE' as rule_id,
    evaluated_date as signal_date,
    {{ dbt.concat([
        "'rated='", as_text('evaluated_at'),
        "' window='", 'window_id',
        "' minutes=" ~ var('ri_service_minutes') ~ "'"
    ]) }} as evidence
from nearest
where not coalesce({{ micros_between('before_at', 'evaluated_at') }} <= {{ span_seconds }} * 1000000.0, false)
  and not coalesce({{ micros_between('evaluated_at', 'after_at') }} <= {{ span_seconds }} * 1000000.0, false)
