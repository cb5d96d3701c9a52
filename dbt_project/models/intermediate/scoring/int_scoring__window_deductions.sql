{#- Deductions 扣分 (docs/rules.md#deductions; SPEC v2 §4.6): one row per deduction, by the month it
    counts in, with its source and the id of the row behind it. The centre's 考核细则 are 扣分制:
    points are taken off a window's score per finding; each source is configurable in the scoring
    file and listed here with its evidence, so a deduction on the ranking page can be traced back.
    One CTE per source, all in the same columns (month, window_id, source, ref_id, points, reason),
    unioned at the end. Only rows with points > 0 are kept: a source whose points are 0 in the
    scoring file (deduct_rating_signal by default: rating-integrity signals are shown, not
    scored) lists nothing and changes no score.
    Sources: rating_signal (§4.9, here), and from their own models: absent_day and late
    (attendance, §4.10), complaint (substantiated complaint work orders), inspection (明察暗访
    records), late_ack (supervision items acknowledged late, §4.11). A feed never delivered gives
    no row, so with none of them and no supervision item the scores are v1's. -#}
with rating_signals as (
    {#- the rows of fct_rating_signal without the department it adds (an intermediate model reads
        no mart) -#}
    select * from {{ ref('int_rating_integrity__signals') }}
),

rating_signal as (
    {#- deduct_rating_signal per rating-integrity signal (fct_rating_signal), by the signal's month -#}
    select
        cast(signals.month as date) as month,
        signals.window_id,
        'rating_signal' as source,
        {#- the rating; a window-month signal (RI_TOO_PERFECT) has none: its rule and date -#}
        coalesce(signals.evaluation_id, {{ dbt.concat(['signals.rule_id', "' '", as_text('signals.signal_date')]) }}) as ref_id,
        cast({{ var('deduct_rating_signal', 0) }} as {{ type_double() }}) as points,
        {{ dbt.concat(['signals.rule_id', "': '", "coalesce(signals.evidence, '')"]) }} as reason
    from rating_signals as signals
    where signals.window_id is not null
),

{#- the other sources, one model each beside this one (docs/rules.md#deductions) -#}
attendance as (
    {#- deduct_absent_day per absent window-day, deduct_late per late arrival or early leave (§4.10) -#}
    select month, window_id, source, ref_id, points, reason from {{ ref('int_scoring__deductions_attendance') }}
),

complaint as (
    {#- deduct_substantiated_complaint per substantiated complaint work order at the window -#}
    select month, window_id, source, ref_id, points, reason from {{ ref('int_scoring__deductions_complaint') }}
),

inspection as (
    {#- an inspection record's own deduction (window-level records) -#}
    select month, window_id, source, ref_id, points, reason from {{ ref('int_scoring__deductions_inspection') }}
),

late_ack as (
    {#- deduct_late_ack per supervision item acknowledged after its reply-by date or not by month end (§4.11) -#}
    select month, window_id, source, ref_id, points, reason from {{ ref('int_scoring__deductions_late_ack') }}
),

{%- set sources = ['rating_signal', 'attendance', 'complaint', 'inspection', 'late_ack'] %}

deductions as (
    {% for source in sources %}
    select month, window_id, source, ref_id, points, reason from {{ source }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from deductions
where points > 0
