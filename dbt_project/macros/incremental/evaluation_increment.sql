{#- How int_satisfaction__evaluations is built incrementally on DuckDB. The model reads the
    deduplicated stg_landing__evaluations table; what it depends on besides the row itself is the
    as-of date, the working-day calendar and vars rectify_workdays, verify_workdays and
    callback_workdays. After each build a post-hook
    records them, with the _delivery_ids merged so far, in the state table below; the next run
    compares and picks a mode:
    - 'full': not an incremental run (first build, --full-refresh, Spark): the plain select.
    - 'all':  no state yet, or the calendar (working days of the feed and the official calendar:
              deadlines are seq arithmetic over them) or rectify_workdays changed: every row is
              deleted and rebuilt.
    - 'some': only the rows whose value can differ from a rebuild at the new as-of date A′
              (previous A; lo = min, hi = max): ids of deliveries not merged yet (new or updated
              evaluations), evaluations dated in (lo, hi] (enter or leave the as-of window), and
              bad reviews needing rectification whose deadline is in [lo, hi] (is_rectification_due
              and _late flip) or rectified in (lo, hi] (is_rectified_on_time and _late flip); the
              same for verification (verification_deadline, verified_at) and callback
              (callback_deadline, callback_at): evaluation_as_of_dependent_ids below.
              Every other row has the same value at A and A′: each as-of test compares a date
              outside those ranges with A and A′, which fall on the same side of it.
    The pre-hook deletes what a delete+insert by key cannot: rows of updated ids (their new
    version may lie after A′) and rows evaluated after A′. Hooks run in the model's transaction. -#}

{#- in the intermediate schema, next to the models (not a model: written by the post-hook) -#}
{% macro evaluation_state_relation() -%}
    {{ return(intermediate_relation('int_satisfaction__evaluations__build_state')) }}
{%- endmacro %}

{% macro evaluation_increment() -%}
    {#- a dbt unit test (no `this`) checks the rules on given rows: always the plain select -#}
    {%- if this is none -%}{{ return({'mode': 'full'}) }}{%- endif -%}
    {{ return(increment_mode(
        evaluation_state_relation(),
        stored="cast(max(rectify_workdays) as varchar) || '/' || cast(max(verify_workdays) as varchar) || '/' "
               "|| cast(max(callback_workdays) as varchar) || '/' || max(calendar_fingerprint)",
        current="cast(" ~ var('rectify_workdays') ~ " as varchar) || '/' || cast(" ~ var('verify_workdays')
                ~ " as varchar) || '/' || cast(" ~ var('callback_workdays') ~ " as varchar) || '/' || "
                ~ calendar_fingerprint(ref('int_calendar__days')))) }}
{%- endmacro %}

{#- ids of stg_landing__evaluations rows from deliveries the last build had not merged -#}
{% macro evaluation_unmerged_ids() -%}
    select evaluation_id from {{ ref('stg_landing__evaluations') }}
    where _delivery_id not in (select _delivery_id from {{ evaluation_state_relation() }} where _delivery_id is not null)
{%- endmacro %}

{% macro evaluation_pre_hook() -%}
    {%- set m = evaluation_increment() -%}
    {%- if m.mode == 'all' -%}
        delete from {{ this }}
    {%- elif m.mode == 'some' -%}
        delete from {{ this }}
        where cast(evaluated_at as date) > {{ as_of_date() }}
           or evaluation_id in ({{ evaluation_unmerged_ids() }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro evaluation_post_hook() -%}
    {%- if target.type != 'duckdb' -%}
        select 1
    {%- else -%}
        create or replace table {{ evaluation_state_relation() }} as
        select distinct
            _delivery_id,
            {{ as_of_date() }} as as_of_date,
            {{ var('rectify_workdays') }} as rectify_workdays,
            {{ var('verify_workdays') }} as verify_workdays,
            {{ var('callback_workdays') }} as callback_workdays,
            {{ calendar_fingerprint(ref('int_calendar__days')) }} as calendar_fingerprint
        from {{ ref('stg_landing__evaluations') }}
    {%- endif -%}
{%- endmacro %}

{#- ids of the stored rows (`relation`: the model itself) whose as-of-dependent columns can flip
    between as-of dates lo and hi: a deadline in [lo, hi] (due / late flip) or the act that meets it
    dated in (lo, hi] (on time flips). One list for the three 好差评 deadlines. -#}
{% macro evaluation_as_of_dependent_ids(relation, lo, hi) -%}
    select evaluation_id from {{ relation }}
    where (needs_rectification
           and (cast(rectification_deadline as date) between {{ lo }} and {{ hi }}
                or (cast(rectified_at as date) > {{ lo }} and cast(rectified_at as date) <= {{ hi }})))
       or (verification_deadline is not null
           and (cast(verification_deadline as date) between {{ lo }} and {{ hi }}
                or (cast(verified_at as date) > {{ lo }} and cast(verified_at as date) <= {{ hi }})))
       or (callback_deadline is not null
           and (cast(callback_deadline as date) between {{ lo }} and {{ hi }}
                or (cast(callback_at as date) > {{ lo }} and cast(callback_at as date) <= {{ hi }})))
{%- endmacro %}
