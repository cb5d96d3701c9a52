{#- RI_TOO_PERFECT 满意度异常 (SPEC §4.9, docs/rules.md#ri-too-perfect), per window and month: the window has
    n ≥ `ri_min_ratings` (50) active ratings (not channel default), all 非常满意 (5), and
    p = cⁿ < `ri_p_value` (0.001), where c is the share of 非常满意 among the active ratings of the other
    windows of its centre that month (the centre of the window's version in force on the month's first
    day). p is how likely n ratings in a row would all be 非常满意 if the window's applicants rated like
    the rest of the hall's: below 1 in 1000, the perfection itself is the anomaly. No other window with
    an active rating that month: no c, no signal (nothing to compare with). c = 1 gives p = 1.
    signal_date = the date of the window's last active rating that month; the evidence states n, c, p. -#}
with ratings as (
    select ratings.window_id, ratings.month, ratings.rating, ratings.evaluated_date,
        coalesce(windows.center_id, '') as center_key
    from {{ ref('int_rating_integrity__ratings') }} as ratings
    left join {{ ref('int_reference__window_versions') }} as windows
        on windows.window_id = ratings.window_id and {{ version_in_force('windows', 'ratings.month') }}
),

window_month as (
    select
        window_id,
        month,
        center_key,
        count(*) as ratings,
        sum(case when rating = 5 then 1 else 0 end) as perfect,
        max(evaluated_date) as last_date
    from ratings
    group by window_id, month, center_key
),

with_others as (
    select
        window_month.*,
        sum(ratings) over (partition by center_key, month) - ratings as other_ratings,
        sum(perfect) over (partition by center_key, month) - perfect as other_perfect
    from window_month
),

tested as (
    select
        with_others.*,
        cast(other_perfect as {{ type_double() }}) / other_ratings as c,
        power(cast(other_perfect as {{ type_double() }}) / other_ratings, ratings) as p
    from with_others
    where ratings >= {{ var('ri_min_ratings') }}
      and perfect = ratings
      and other_ratings > 0
)

select
    cast(null as {{ dbt.type_string() }}) as evaluation_id,
    window_id,
    month,
    'RI_TOO_PERFECT' as rule_id,
    last_date as signal_date,
    {{ dbt.concat([
        "'n='", as_text('ratings'),
        "' c='", as_text('round(c, 6)'),
        "' p='", as_text('p'),
        "' others='", as_text('other_ratings'),
        "' min_ratings=" ~ var('ri_min_ratings') ~ " p_value=" ~ var('ri_p_value') ~ "'"
    ]) }} as evidence,
    ratings,
    c,
    p
from tested
where p < {{ var('ri_p_value') }}
