{#- The scoring rules (docs/rules.md#score, #stars, #rank), each in one place. Every threshold and
    weight is a dbt var that windowwatch.transform.build fills from the scoring file in force
    (Scoring.dbt_vars()). -#}

{#- The five components of the score, in the order of the formula: (code, column, weight var). -#}
{% macro score_components_list() -%}
    {{ return([('T', 'component_t', 'weight_t'), ('S', 'component_s', 'weight_s'), ('D', 'component_d', 'weight_d'),
               ('I', 'component_i', 'weight_i'), ('R', 'component_r', 'weight_r')]) }}
{%- endmacro %}

{#- The weighted components, a number in [0, 1] (docs/rules.md#score; SPEC v2 §4.6):
    wT·T + wS·S + wD·D + wI·I + wR·R. A component with no data (null: S when the centre had no
    rating that month) is left out and the weights of the others are scaled to sum to 1; with
    every component present the sum is v1's, untouched (no division). Null when T is null: a
    window-month without a completed case (with an on-time verdict) has no T and so no score. -#}
{% macro weighted_components() -%}
    {%- set parts = score_components_list() -%}
    case
        when component_t is null then null
        when {% for code, col, w in parts %}{{ col }} is not null{% if not loop.last %} and {% endif %}{% endfor %} then
            {% for code, col, w in parts %}{% if not loop.first %} + {% endif %}{{ var(w) }} * ({{ col }}){% endfor %}
        else
            ({% for code, col, w in parts %}{% if not loop.first %} + {% endif %}coalesce({{ var(w) }} * ({{ col }}), 0){% endfor %})
            / nullif({% for code, col, w in parts %}{% if not loop.first %} + {% endif %}case when {{ col }} is not null then {{ var(w) }} else 0 end{% endfor %}, 0)
    end
{%- endmacro %}

{#- score = max(0, 100 × weighted components − deductions), rounded to 2 decimals (扣分制, SPEC v2
    §4.6: the centre's 考核细则 deduct points per inspection finding, complaint, absence …);
    null without T. `deductions` is never null (0 when nothing applies), so with none the score is v1's. -#}
{% macro window_score(deductions='0') -%}
    {#- the case guards the null: greatest() skips nulls (DuckDB, Spark), so greatest(0, null) is 0 -#}
    case when component_t is not null then
        round(greatest(0.0, 100 * ({{ weighted_components() }}) - ({{ deductions }})), 2)
    end
{%- endmacro %}

{#- score_note: which components were left out for lack of data in the whole centre that month,
    as codes ('S_left_out'; several joined with ';'): the dashboards and the report translate them.
    Null when nothing was left out or there is no score. -#}
{% macro score_note() -%}
    {%- set parts = score_components_list() -%}
    case when component_t is not null then
        nullif(concat_ws(';'{% for code, col, w in parts if code != 'T' %},
            case when {{ col }} is null then '{{ code }}_left_out' end{% endfor %}), '')
    end
{%- endmacro %}

{#- Stars from a (rounded) score: >= star5_min ★★★★★ … else ★. Null without a score and, v2, for
    a window not eligible for ranking (不参评, 样本不足: five cases make no star window), passed
    as `eligible`. -#}
{% macro star_rating(score, eligible='true') -%}
    case
        when {{ score }} is null or not ({{ eligible }}) then null
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
        {#- v2: no T without a completion with an on-time verdict (no score), and no S when the whole
            centre had no rating that month (S left out, the other weights rescaled) -#}
        on_time_rate as component_t,
        {{ bayesian_adjusted('evaluations', 'satisfaction_rate', reference_rate) }} as component_s,
        rectification_rate as component_r,
        {{ discipline_component('video_flags_confirmed - handover_flags_confirmed') }} as component_d,
        {{ integrity_component('off_book_rate') }} as component_i
{%- endmacro %}
