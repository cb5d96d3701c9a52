{#- RI_BURST 集中评价 (SPEC §4.9, docs/rules.md#ri-burst): ≥ `ri_burst_count` (5) in-hall ratings from one
    device_id — from one window when the rating carries no device_id — within `ri_burst_minutes` (3)
    minutes, both ends included (5 ratings spanning exactly 3 min fire; 3 min + 1 s do not). Each rating
    of a burst is a signal. Why: a queue of real applicants does not rate every 30 seconds on one pad;
    staff pressing the pad themselves (刷好评) does (国办发〔2019〕51号 asks for 评价真实).
    Per source in time order: a rating opens a burst when the (count − 1)-th rating after it is at most
    the span later; a rating is in a burst when one of the count − 1 ratings before it, or itself,
    opens one. The evidence describes the run of consecutive burst ratings it belongs to (a run breaks
    where two ratings are more than the span apart): the source, how many ratings, the first and last
    time, and the thresholds.
    Speed (2 M ratings a year, a handful of bursts): a span ≤ W = ri_burst_minutes lies inside one cell
    of one of two grids of cells 2W long (one starting at the epoch, one shifted by W), so a rating can
    be in a burst only if its cell in one of them holds ≥ count ratings of its source (two hash
    aggregations, whose few dense cells then filter the ratings). Every rating between two ratings of a
    dense cell is in that cell, so the sort below, over these few candidates only, sees each burst whole
    and gives what it would over all ratings. -#}
{%- set n = var('ri_burst_count') | int %}
{%- set span_micros = (var('ri_burst_minutes') | float) * 60000000.0 %}
{%- set span_seconds = (var('ri_burst_minutes') | int) * 60 %}
{%- set epoch = "cast('2000-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")" %}
with in_hall as (
    select
        evaluation_id,
        window_id,
        month,
        evaluated_at,
        evaluated_date,
        device_id,
        case when device_id is not null then 'device' else 'window' end as source_kind,
        coalesce(device_id, window_id) as source_id,
        floor({{ seconds_between(epoch, 'evaluated_at') }} / {{ 2 * span_seconds }}) as cell_a,
        floor(({{ seconds_between(epoch, 'evaluated_at') }} + {{ span_seconds }}) / {{ 2 * span_seconds }}) as cell_b
    from {{ ref('int_rating_integrity__ratings') }}
    where is_in_hall
),

dense_a as (
    select source_kind, source_id, cell_a
    from in_hall
    group by source_kind, source_id, cell_a
    having count(*) >= {{ n }}
),

dense_b as (
    select source_kind, source_id, cell_b
    from in_hall
    group by source_kind, source_id, cell_b
    having count(*) >= {{ n }}
),

ratings as {{ materialized_cte() }} (
    select in_hall.*
    from in_hall
    left join dense_a
        on dense_a.source_kind = in_hall.source_kind and dense_a.source_id = in_hall.source_id and dense_a.cell_a = in_hall.cell_a
    left join dense_b
        on dense_b.source_kind = in_hall.source_kind and dense_b.source_id = in_hall.source_id and dense_b.cell_b = in_hall.cell_b
    where dense_a.cell_a is not null or dense_b.cell_b is not null
),

opened as (
    select
        ratings.*,
        coalesce({{ micros_between('evaluated_at', 'lead(evaluated_at, ' ~ (n - 1) ~ ') over (partition by source_kind, source_id order by evaluated_at, evaluation_id)') }}
                 <= {{ span_micros }}, false) as opens_burst,
        lag(evaluated_at) over (partition by source_kind, source_id order by evaluated_at, evaluation_id) as previous_at
    from ratings
),

marked as (
    select
        opened.*,
        max(case when opens_burst then 1 else 0 end) over (
            partition by source_kind, source_id order by evaluated_at, evaluation_id
            rows between {{ n - 1 }} preceding and current row) = 1 as in_burst
    from opened
),

runs as (
    select
        marked.*,
        sum(case when previous_in_burst and {{ micros_between('previous_at', 'evaluated_at') }} <= {{ span_micros }}
                 then 0 else 1 end) over (
            partition by source_kind, source_id order by evaluated_at, evaluation_id
            rows between unbounded preceding and current row) as run_no
    from (
        select
            marked.*,
            coalesce(lag(in_burst) over (partition by source_kind, source_id order by evaluated_at, evaluation_id), false)
                as previous_in_burst
        from marked
    ) as marked
    where in_burst
),

sized as (
    select
        runs.*,
        count(*) over (partition by source_kind, source_id, run_no) as run_ratings,
        min(evaluated_at) over (partition by source_kind, source_id, run_no) as run_first,
        max(evaluated_at) over (partition by source_kind, source_id, run_no) as run_last
    from runs
)

select
    evaluation_id,
    window_id,
    month,
    'RI_BURST' as rule_id,
    evaluated_date as signal_date,
    {{ dbt.concat([
        "case when source_kind = 'device' then " ~ dbt.concat(["'device='", 'source_id']) ~ " else 'device=none' end",
        "' window='", 'window_id',
        "' ratings='", as_text('run_ratings'),
        "' first='", as_text('run_first'),
        "' last='", as_text('run_last'),
        "' count=" ~ n ~ " minutes=" ~ var('ri_burst_minutes') ~ "'"
    ]) }} as evidence
from sized
