{#- How the case models (int_cases__case_facts, int_cases__pauses, int_cases__accepted, fct_case)
    are built incrementally on DuckDB, so that each equals a full rebuild (README.md beside this
    file says what a new rule input must declare here).

    The same mechanism as evaluation_increment.sql: a post-hook records, per model, the
    as-of date, a fingerprint of what the model reads besides the events (the working-day
    calendar, the item and window references, var yellow_workdays) and the deliveries whose
    touched cases it has taken in (int_cases__touched); the next run compares and picks a mode:
    - 'full': not an incremental run (first build, --full-refresh, Spark, a unit test): plain select.
    - 'all':  no state yet, or the fingerprint changed: every row is deleted and rebuilt.
    - 'some': only the cases whose row can differ from a rebuild at the new as-of date A′
              (previous A; lo = min, hi = max), collected by the pre-hook into <model>__recompute:
              * cases touched by deliveries the model has not taken in — the cases of the new
                rows AND of every landed version of their event_ids (a re-delivered correction
                can move an event to another case: the old case loses it);
              * cases with an event dated in (lo, hi] (it enters or leaves the as-of window);
              * per model, the cases whose value depends on the as-of date itself (see the
                `extra` SQL each model passes: open pauses; cases not completed — an open or a
                rejected/withdrawn case's clock and open pauses run to the as-of date; a
                deadline not found in the calendar range).
              Every other case has all its events on or before both A and A′ and is completed,
              so its row is the same at A and A′.
    The pre-hook deletes the recompute set from the table, the model's select builds exactly
    that set, the incremental 'append' inserts it. The as_of_date column every row carries is
    set by the post-hook (update_as_of). Hooks run in the model's transaction. -#}

{#- in the intermediate schema, next to the models (not a model: written by the post-hooks) -#}
{% macro case_state_relation() -%}
    {{ return(intermediate_relation('int_cases__build_state')) }}
{%- endmacro %}

{#- in the intermediate schema even for fct_case: the marts schema holds only marts -#}
{% macro case_recompute_relation() -%}
    {{ return(intermediate_relation(this.identifier ~ '__recompute')) }}
{%- endmacro %}

{#- What a model reads besides the events, the parts it names in case_increment / the hooks:
    'references' (the item and window versions: limits, departments and their validity intervals — the columns hashed below), 'calendar'
    (working days that are not assumed, increment_mode.sql: calendar_fingerprint), 'step_limits' (the
    环节时限 in force, int_timeliness__step_limits), 'card' (var
    yellow_workdays, the vars of the counted clock, docs/rules.md#timeliness-signals, and
    deliver_limit_workdays, TL_LATE_DELIVERY). Equal fingerprints: every stored row keeps its value. A rule that reads
    another column, relation or var adds it here (README.md, tests/dbt/test_dbt_increment_inputs.py). -#}
{% macro case_fingerprint(parts) -%}
    {%- set pieces = [] -%}
    {%- if 'references' in parts -%}
        {#- every version with its interval (docs/rules.md#reference-versions): a case reads the version in
            force on its acceptance date, so a new version (valid_from) or a changed one changes the print -#}
        {%- do pieces.append("(select cast(count(*) as varchar) || ':' || cast(coalesce(sum(hash(item_code, valid_from, valid_to, item_kind, limit_unit, promised_limit, legal_limit, limit_days, limit_source, max_extension_days, deliver_limit)), 0) as varchar) from " ~ intermediate_relation('int_reference__item_versions') ~ ")") -%}
        {%- do pieces.append("(select cast(count(*) as varchar) || ':' || cast(coalesce(sum(hash(window_id, valid_from, valid_to, department_id, center_id)), 0) as varchar) from " ~ intermediate_relation('int_reference__window_versions') ~ ")") -%}
    {%- endif -%}
    {%- if 'calendar' in parts -%}
        {%- do pieces.append(calendar_fingerprint(intermediate_relation('int_calendar__days'))) -%}
    {%- endif -%}
    {%- if 'step_limits' in parts -%}
        {#- the step limits in force per item (int_timeliness__step_limits: the feed with `*` resolved) -#}
        {%- do pieces.append("(select cast(count(*) as varchar) || ':' || cast(coalesce(sum(hash(item_code, from_event, to_event, limit_workdays)), 0) as varchar) from " ~ intermediate_relation('int_timeliness__step_limits') ~ ")") -%}
    {%- endif -%}
    {%- if 'card' in parts -%}
        {%- do pieces.append("'yellow=" ~ var('yellow_workdays') ~ ";notice=" ~ var('supplement_notice_workdays')
                             ~ ";reasons=" ~ (var('pause_reasons_allowed') | sort | join(',')) ~ ";no_reason="
                             ~ var('pause_without_reason') ~ ";extension=" ~ var('max_extension_days')
                             ~ ";deliver=" ~ var('deliver_limit_workdays') ~ "'") -%}
    {%- endif -%}
    {{ return(pieces | join(" || '/' || ")) }}
{%- endmacro %}

{% macro case_increment(parts) -%}
    {#- a dbt unit test (no `this`) checks the rules on given rows: always the plain select -#}
    {%- if this is none -%}{{ return({'mode': 'full'}) }}{%- endif -%}
    {{ return(increment_mode(case_state_relation(), stored='max(fingerprint)', current=case_fingerprint(parts),
                             where="model = '" ~ this.identifier ~ "'")) }}
{%- endmacro %}

{#- the model's filter on its case key: every case, or those of the recompute set -#}
{% macro case_filter(m, column) -%}
    {%- if m.mode == 'some' -%}
        {{ column }} in (select case_id from {{ case_recompute_relation() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro case_pre_hook(parts, extra=none) -%}
    {%- set m = case_increment(parts) -%}
    {%- if m.mode == 'all' -%}
        delete from {{ this }}
    {%- elif m.mode == 'some' -%}
        create or replace table {{ case_recompute_relation() }} as
        select case_id from {{ intermediate_relation('int_cases__touched') }}
        where case_id is not null
          and _delivery_id not in (select _delivery_id from {{ case_state_relation() }}
                                   where model = '{{ this.identifier }}' and _delivery_id is not null)
        union
        select case_id from {{ intermediate_relation('int_cases__events_latest') }}
        where case_id is not null
          {# event date in (lo, hi], on the bare column so the scan skips blocks by min/max #}
          and event_time >= cast({{ m.lo }} as timestamp) + interval 1 day
          and event_time < cast({{ m.hi }} as timestamp) + interval 1 day
        {%- if extra %}
        union
        {{ extra }}
        {%- endif %};
        delete from {{ this }} where case_id in (select case_id from {{ case_recompute_relation() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro case_post_hook(parts, update_as_of=false) -%}
    {%- if target.type != 'duckdb' -%}
        select 1
    {%- else -%}
        {%- if update_as_of %}
        update {{ this }} set as_of_date = {{ as_of_date() }} where as_of_date is distinct from {{ as_of_date() }};
        {%- endif %}
        create table if not exists {{ case_state_relation() }}
            (model varchar, _delivery_id varchar, as_of_date date, fingerprint varchar);
        delete from {{ case_state_relation() }} where model = '{{ this.identifier }}';
        insert into {{ case_state_relation() }}
        select '{{ this.identifier }}', _delivery_id, {{ as_of_date() }}, {{ case_fingerprint(parts) }}
        from (select distinct _delivery_id from {{ intermediate_relation('int_cases__touched') }}) as merged
        union all
        select '{{ this.identifier }}', null, {{ as_of_date() }}, {{ case_fingerprint(parts) }};
        drop table if exists {{ case_recompute_relation() }}
    {%- endif -%}
{%- endmacro %}

{#- int_cases__accepted and fct_case: the cases whose row depends on the as-of date itself — not
    completed now (from int_cases__case_facts, built first) or before (stored), or with a
    deadline beyond the calendar range (found once the range grows). -#}
{% macro case_as_of_dependent(stored) -%}
    select case_id from {{ intermediate_relation('int_cases__case_facts') }} where status <> 'completed'
    union
    select case_id from {{ stored }} where status <> 'completed' or deadline_date is null
{%- endmacro %}

{#- int_timeliness__step_overdue: every case not completed (an open step runs to the as-of date; a
    rejected or withdrawn case's open pause does too) -#}
{% macro case_not_completed() -%}
    select case_id from {{ intermediate_relation('int_cases__case_facts') }} where status <> 'completed'
{%- endmacro %}

{#- fct_case: the cases whose count of signals (off-book: column off_book_signals; timeliness:
    timeliness_signals) differs from the stored one -#}
{% macro case_signals_changed(stored, signals, column='off_book_signals') -%}
    select coalesce(counted.case_id, stored_counts.case_id) as case_id
    from (select case_id, count(*) as signals
          from {{ signals }}
          where case_id is not null group by case_id) as counted
    full outer join (select case_id, {{ column }} as signals from {{ stored }} where {{ column }} > 0) as stored_counts
        on stored_counts.case_id = counted.case_id
    where coalesce(counted.signals, 0) <> coalesce(stored_counts.signals, 0)
{%- endmacro %}
