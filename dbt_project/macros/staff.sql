{#- Staff stars 星级服务人员 (SPEC v2 §4.12, docs/rules.md#staff-stars): the staff member's score.
    score = max(0, 100 × (0.5 T + 0.5 S) − deduct_absent_day × absent_days − deduct_late ×
    (late_arrivals + early_leaves)), 2 decimals; T = on_time_rate, S = adjusted_satisfaction (the
    window's Bayesian rule, macros/scoring.sql `bayesian_adjusted`, with the centre's rate as prior).
    The weights 0.5 / 0.5 are SPEC §4.12's. Null attendance (feed not delivered) counts 0; no T (no
    completed case with an on-time verdict) → no score; S null (no rating in the whole centre that
    month) is left out and T carries the whole weight, as the window rule rescales (docs/rules.md#score). -#}
{% macro staff_score() -%}
    case when on_time_rate is not null then
        round(greatest(0.0,
            100 * (case when adjusted_satisfaction is null then on_time_rate
                        else 0.5 * on_time_rate + 0.5 * adjusted_satisfaction end)
            - {{ var('deduct_absent_day') }} * coalesce(absent_days, 0)
            - {{ var('deduct_late') }} * (coalesce(late_arrivals, 0) + coalesce(early_leaves, 0))), 2)
    end
{%- endmacro %}
