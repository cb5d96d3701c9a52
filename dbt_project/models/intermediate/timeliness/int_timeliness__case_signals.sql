{#- The timeliness signals 时限合规 (docs/rules.md#timeliness-signals), one row per offending event (a
    notice, a suspend, an extend) or per elapsed-time breach (legal overdue, a step, a delivery):
    the union of the rule models. fct_case.timeliness_signals counts them; fct_timeliness_signal
    publishes them. evidence is codes and parameters (key=value) a person can check against the
    feeds. -#}
with notices as (
    select
        case_id, window_id, department_id, rule_id, notice_date as signal_date,
        {{ dbt.concat([
            "'notice='", 'event_id', "' date='", as_text('notice_date'), "' seq='", as_text('notice_seq'),
            "' received='", as_text('received_date'), "' workdays='", as_text('notice_workdays'),
            "' limit=" ~ var('supplement_notice_workdays') ~ "'"
        ]) }} as evidence
    from {{ ref('int_timeliness__notices') }}
    where rule_id is not null
),

pauses as (
    select
        case_id, window_id, department_id, rule_id, event_date as signal_date,
        {{ dbt.concat([
            "'suspend='", 'event_id', "' date='", as_text('event_date'),
            "' reason='", "coalesce(pause_reason, 'none')",
            "case when is_counted then ' counted' else ' not_counted' end"
        ]) }} as evidence
    from {{ ref('int_timeliness__pause_reasons') }}
    where rule_id is not null
),

extensions as (
    select
        case_id, window_id, department_id, rule_id, event_date as signal_date, extend_seq, requested_days, max_extension_days,
        {{ dbt.concat([
            "'extend='", 'event_id', "' date='", as_text('event_date'), "' seq='", as_text('extend_seq'),
            "' days='", as_text('requested_days'), "' cap='", as_text('max_extension_days'),
            "' deadline_without='", "coalesce(" ~ as_text('deadline_without_extension') ~ ", 'none')",
            "' counted='", as_text('counted_days')
        ]) }} as evidence
    from {{ ref('int_timeliness__extensions') }}
    where rule_id is not null
),

{#- A first extend both late and over the cap breaks two rules (§4.2.1: each check writes its row); the
    extensions model decides its count by the first (late: not counted), so the cap's row is added here. -#}
late_and_over_cap as (
    select case_id, window_id, department_id, 'TL_EXTENSION_CAP' as rule_id, signal_date, evidence
    from extensions
    where rule_id = 'TL_EXTENSION_LATE' and extend_seq = 1 and requested_days > max_extension_days
)

{% for part in ['notices', 'pauses', 'extensions', 'late_and_over_cap'] %}
select case_id, rule_id, window_id, department_id, signal_date, evidence from {{ part }}
union all
{% endfor %}
{%- set elapsed = ['int_timeliness__legal_overdue', 'int_timeliness__step_overdue', 'int_timeliness__late_delivery'] %}
{%- for rule in elapsed %}
select case_id, rule_id, window_id, department_id, signal_date, evidence from {{ ref(rule) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
