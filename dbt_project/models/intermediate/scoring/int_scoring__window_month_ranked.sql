{#- Ranking (docs/rules.md#rank, #red-flag, #bottom, #bottom-repeat) per month and centre (a warehouse may hold
    several centres; each ranks its own windows):
    - rank: among eligible windows, 1 = best score, ties share a rank and the next skips (rank()).
      v2 (SPEC §4.6, the centre's 考核细则: 一票否决 means the score cannot save the window): a
      vetoed window ranks after every eligible window without a veto; vetoed windows among
      themselves by score.
    - 红旗窗口: among eligible windows with ≥ `red_flag_min_stars` stars and no veto, the best
      ceil(red_flag_share × number of eligible windows) by score; ties at the boundary all in.
    - 末位: the worst ceil(bottom_share × number of eligible windows) eligible windows in rank
      order (vetoed windows first); ties at the boundary all in. Ineligible windows get no rank
      and no flag.
    - is_bottom_repeat (v2): 末位 this month and the month before (连续两个月末位: the talk 约谈 is
      then mandatory); false when not 末位 this month, null when 末位 and the window has no row
      the month before (nothing to compare with). -#}
with scored as (
    select
        *,
        case when veto_reason is not null then 1 else 0 end as vetoed,
        is_eligible and veto_reason is null and stars >= {{ var('red_flag_min_stars') }} as is_red_flag_candidate
    from {{ ref('int_scoring__window_month_scored') }}
),

ranked as (
    select
        scored.*,
        count(case when is_eligible then 1 end) over (partition by month, center_id) as eligible_windows,
        rank() over (partition by month, center_id, is_eligible order by vetoed asc, score desc) as rank_desc,
        rank() over (partition by month, center_id, is_eligible order by vetoed desc, score asc) as rank_asc,
        rank() over (partition by month, center_id, is_red_flag_candidate order by score desc) as candidate_rank
    from scored
),

flagged as (
    select
        ranked.*,
        case when is_eligible then rank_desc end as rank,
        coalesce(is_red_flag_candidate
                 and candidate_rank <= {{ ceil_share(var('red_flag_share'), 'eligible_windows') }}, false) as is_red_flag,
        coalesce(is_eligible
                 and rank_asc <= {{ ceil_share(var('bottom_share'), 'eligible_windows') }}, false) as is_bottom
    from ranked
)

select
    flagged.*,
    case
        when not flagged.is_bottom then false
        else previous.is_bottom
    end as is_bottom_repeat
from flagged
left join flagged as previous
    on previous.window_id = flagged.window_id
    and {{ add_months(1, 'previous.month') }} = flagged.month
