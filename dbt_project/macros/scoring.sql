{#- The scoring rules (docs/rules.md#score, #stars, #rank), each in one place. Every threshold and
    weight is a dbt var that windowwatch.transform.build fills from the scoring file in force
    (Scoring.dbt_vars()). -#}

{#- score = 100 × (wT·T + wS·S + wD·D + wI·I + wR·R), rounded to 2 decimals. -#}
{% macro window_score(t, s, d, i, r) -%}
    round(100 * (
        {{ var('weight_t') }} * ({{ t }})
        + {{ var('weight_s') }} * ({{ s }})
        + {{ var('weight_d') }} * ({{ d }})
        + {{ var('weight_i') }} * ({{ i }})
        + {{ var('weight_r') }} * ({{ r }})
    ), 2)
{%- endmacro %}

{#- Stars from a (rounded) score: >= star5_min ★★★★★ … else ★. -#}
{% macro star_rating(score) -%}
    case
        when {{ score }} >= {{ var('star5_min') }} then 5
        when {{ score }} >= {{ var('star4_min') }} then 4
        when {{ score }} >= {{ var('star3_min') }} then 3
        when {{ score }} >= {{ var('star2_min') }} then 2
        else 1
    end
{%- endmacro %}

{#- D = max(0, 1 − penalty × confirmed flags other than private_handover). -#}
{% macro discipline_component(flags_other_than_handover) -%}
    greatest(0.0, 1.0 - {{ var('discipline_penalty_per_flag') }} * ({{ flags_other_than_handover }}))
{%- endmacro %}

{#- I = max(0, 1 − penalty × off_book_rate), the rate taken as 0 when nothing was accepted. -#}
{% macro integrity_component(off_book_rate) -%}
    greatest(0.0, 1.0 - {{ var('off_book_penalty') }} * coalesce({{ off_book_rate }}, 0.0))
{%- endmacro %}

{#- Bayesian adjustment (v·r + m·c)/(v + m); with no ratings it is c. -#}
{% macro bayesian_adjusted(ratings, rate, prior_rate) -%}
    case
        when coalesce({{ ratings }}, 0) = 0 then {{ prior_rate }}
        else ({{ ratings }} * ({{ rate }}) + {{ var('prior_weight') }} * ({{ prior_rate }}))
             / ({{ ratings }} + {{ var('prior_weight') }})
    end
{%- endmacro %}

{#- ceil(share × n) without the float trap (0.1 × 30 = 3.0000000000000004 would give 4). -#}
{% macro ceil_share(share, n) -%}
    ceiling(round({{ share }} * ({{ n }}), 9))
{%- endmacro %}

{#- The five score components (docs/rules.md#score) and the adjusted satisfaction, for a row that has the
    month's rates; `reference_rate` is the column holding c of the Bayesian adjustment. Used by
    the window and the department month so both compute them the same way. -#}
{% macro score_components(reference_rate) -%}
{{ bayesian_adjusted('evaluations', 'satisfaction_rate', reference_rate) }} as adjusted_satisfaction,
        coalesce(on_time_rate, 1.0) as component_t,
        coalesce({{ bayesian_adjusted('evaluations', 'satisfaction_rate', reference_rate) }}, 1.0) as component_s,
        rectification_rate as component_r,
        {{ discipline_component('video_flags_confirmed - handover_flags_confirmed') }} as component_d,
        {{ integrity_component('off_book_rate') }} as component_i
{%- endmacro %}
