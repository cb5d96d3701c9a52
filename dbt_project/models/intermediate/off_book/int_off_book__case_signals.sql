{#- The case-level off-book signals (docs/rules.md#off-book), one row per case × rule: the union of the rule
    models. fct_case.off_book_signals counts them; off_book_rate uses them. -#}
{% set rules = ['int_off_book__backfill', 'int_off_book__instant', 'int_off_book__off_hours',
                'int_off_book__handover', 'int_off_book__runaround', 'int_off_book__reaccept'] %}
{% for rule in rules %}
select case_id, rule_id, window_id, department_id, signal_date, evidence
from {{ ref(rule) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
