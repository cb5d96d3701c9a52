{#- Ranking (docs/rules.md#rank, #red-flag, #bottom) per month and centre (a warehouse may hold several centres; each ranks
    its own windows):
    - rank: among eligible windows, 1 = best score, ties share a rank and the next skips (rank()).
    - 红旗窗口: among eligible windows with ≥ `red_flag_min_stars` stars and no veto, the best
      ceil(red_flag_share × number of eligible windows) by score; ties at the boundary all in.
    - 末位: the worst ceil(bottom_share × number of eligible windows) eligible windows by score;
      ties at the boundary all in. Ineligible windows get no rank and no flag. -#}
with scored as (
    select
        *,
        is_eligible and veto_reason is null and stars >= {{ var('red_flag_min_stars') }} as is_red_flag_candidate
    from {{ ref('int_scoring__window_month_scored') }}
),

ranked as (
    select
        scored.*,
        count(case when is_eligible then 1 end) over (partition by month, center_id) as eligible_windows,
        rank() over (partition by month, center_id, is_eligible order by score desc) as rank_desc,
        rank() over (partition by month, center_id, is_eligible order by score asc) as rank_asc,
        rank() over (partition by month, center_id, is_red_flag_candidate order by score desc) as candidate_rank
    from scored
)

select
    ranked.*,
    case when is_eligible then rank_desc end as rank,
    coalesce(is_red_flag_candidate
             and candidate_rank <= {{ ceil_share(var('red_flag_share'), 'eligible_windows') }}, false) as is_red_flag,
    coalesce(is_eligible
             and rank_asc <= {{ ceil_share(var('bottom_share'), 'eligible_windows') }}, false) as is_bottom
from ranked
