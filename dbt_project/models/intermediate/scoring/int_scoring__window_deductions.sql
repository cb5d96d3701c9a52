{#- Deductions 扣分 (docs/rules.md#deductions; SPEC v2 §4.6): one row per deduction, by the month it
    counts in, with its source and the id of the row behind it. The centre's 考核细则 are 扣分制:
    points are taken off a window's score per finding; each source is configurable in the scoring
    file and listed here with its evidence, so a deduction on the ranking page can be traced back.
    One CTE per source, all in the same columns (month, window_id, source, ref_id, points, reason),
    unioned at the end. Only rows with points > 0 are kept: a source whose points are 0 in the
    scoring file (deduct_rating_signal by default: rating-integrity signals are shown, not
    scored) lists nothing and changes no score.
    Sources of this release: rating_signal (§4.9). Later ones (inspections, substantiated
    complaints, attendance, late acknowledgement of supervision items) slot in as CTEs of their
    own and a line in `sources` below. -#}
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

{%- set sources = ['rating_signal'] %}

deductions as (
    {% for source in sources %}
    select month, window_id, source, ref_id, points, reason from {{ source }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from deductions
where points > 0
