{#- The mode of an incremental build on DuckDB, shared by the case models (case_increment.sql)
    and int_satisfaction__evaluations (evaluation_increment.sql). Each keeps a
    state table written by its post-hook: the as-of date of the last build and what else its rows
    depend on (`stored`, SQL over the state rows `where`), compared with the same now (`current`):
    - 'full': not an incremental run (first build, --full-refresh, Spark, a dbt unit test — no
              `this`): the plain select.
    - 'all':  no state yet, or stored differs from current: every row is deleted and rebuilt.
    - 'some': only rows that can differ between the previous as-of date A and the new A′;
              lo = min(A, A′), hi = max(A, A′) bound what the caller recomputes. -#}
{% macro increment_mode(state, stored, current, where='true') -%}
    {%- if this is none or target.type != 'duckdb' or not is_incremental() -%}
        {{ return({'mode': 'full'}) }}
    {%- endif -%}
    {%- if not execute -%}{{ return({'mode': 'some', 'lo': as_of_date(), 'hi': as_of_date()}) }}{%- endif -%}
    {%- if adapter.get_relation(state.database, state.schema, state.identifier) is none -%}
        {{ return({'mode': 'all'}) }}
    {%- endif -%}
    {%- set row = run_query("select cast(max(as_of_date) as varchar), " ~ stored ~ ", " ~ current
                            ~ " from " ~ state ~ " where " ~ where).rows[0] -%}
    {%- if row[0] is none or row[1] is none or row[1] != row[2] -%}
        {{ return({'mode': 'all'}) }}
    {%- endif -%}
    {%- set previous = "cast('" ~ row[0] ~ "' as date)" -%}
    {{ return({'mode': 'some', 'lo': 'least(' ~ previous ~ ', ' ~ as_of_date() ~ ')',
               'hi': 'greatest(' ~ previous ~ ', ' ~ as_of_date() ~ ')'}) }}
{%- endmacro %}

{#- The working days that are not assumed (feed + official calendar) of `days` (int_calendar__days):
    equal fingerprints mean every date keeps its kind, so every N-th-working-day deadline is unchanged. -#}
{% macro calendar_fingerprint(days) -%}
    (select cast(count(*) as varchar) || ':' || cast(coalesce(sum(hash(date, is_workday)), 0) as varchar)
     from {{ days }} where not is_assumed)
{%- endmacro %}

{#- A relation of the intermediate schema read by name, not ref: the build-state tables (written
    by post-hooks, not dbt nodes) and models already upstream of the caller through its refs. -#}
{% macro intermediate_relation(identifier) -%}
    {{ return(api.Relation.create(database=this.database, schema=generate_schema_name('intermediate', none),
                                  identifier=identifier)) }}
{%- endmacro %}
