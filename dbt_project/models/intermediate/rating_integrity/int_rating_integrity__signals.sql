{#- Every rating-integrity signal 评价真实性 (SPEC §4.9, docs/rules.md#rating-integrity), the union of
    the one model per rule: one row per rating of RI_BURST, RI_NO_SERVICE, RI_OFF_HOURS, one per
    window-month of RI_TOO_PERFECT (evaluation_id null). Read by fct_rating_signal (which adds the
    month's department) and by int_scoring__window_deductions; a new RI_* model goes in this list
    only. A view: the rule models are the tables. -#}
{{ config(materialized='view') }}
{%- for rule in ['int_rating_integrity__burst', 'int_rating_integrity__no_service', 'int_rating_integrity__off_hours', 'int_rating_integrity__too_perfect'] %}
select evaluation_id, window_id, month, rule_id, signal_date, evidence from {{ ref(rule) }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
