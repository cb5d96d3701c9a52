{#- column_checks: every simple check of one model (or source) in ONE test, i.e. one query.

    At city scale each generic test rescans its model (a staging view re-runs its dedup over every
    landed row), so one test per column and rule cost minutes; here all of a model's checks of one
    severity are the branches of one UNION ALL (each branch reads only its own columns).

    Arguments (all optional):
      not_null:        [col, ...]                         as dbt's not_null
      accepted_values: {col: [v, ...], ...}              as dbt's accepted_values (null passes)
      in_range:        {col: {min: x, max: y}, ...}       as accepted_range: inclusive, null passes
      unique:          [col | [col, col, ...], ...]       a column as dbt's unique (nulls ignored);
                                                          a list as unique_combination (nulls are a value)
      expressions:     {name: "sql", ...} or {name: {expression: "sql", where: "sql"}}
                                                          as expression_is_true: fails where not true
      key:             a column (or expression) that identifies a row, shown as example_key
      one_scan:        true on a source or view: the column checks then share one read of it
                       (`failing`, the rows failing any of them); on a table each check reads its
                       own column, where a pushed-down `is null` is answered from the column's
                       statistics without reading it

    Each failing (check, column, value) is one row: check_name, column_name, value (the bad value
    or duplicated key, as text), n_rows (rows failing it), example_key (one such row's key). The
    test's failure count is the number of failing rows (sum of n_rows), as the one-column tests
    counted them. Read them with `dbt test --store-failures` (table dbt_test__audit.<test name>)
    or by running the compiled SQL in target/compiled; windowwatch.transform adds them to its
    summary. -#}
{% test column_checks(model, not_null=[], accepted_values={}, in_range={}, unique=[], expressions={}, key=none, one_scan=false) %}
{{ config(fail_calc='coalesce(sum(n_rows), 0)') }}
{%- set text_type = dbt.type_string() -%}
{%- set key_text = ('cast(' ~ key ~ ' as ' ~ text_type ~ ')') if key else none -%}
{%- set example = ('min(' ~ ('_example_key' if one_scan else key_text) ~ ')') if key else ('cast(null as ' ~ text_type ~ ')') -%}
{%- set rows = 'failing' if one_scan else model -%}

{#- one_scan: the column checks share one read; `failing` keeps the rows that fail any of them
    (none, in a healthy build) with just the columns they read, and each check counts its own
    rows there. -#}
{%- set conditions = [] -%}
{%- set columns = [] -%}
{%- set branches = [] -%}

{%- for col in not_null -%}
{%- do conditions.append(col ~ ' is null') -%}
{%- do columns.append(col) if col not in columns -%}
{%- do branches.append(
    "select cast('not_null' as " ~ text_type ~ ") as check_name, cast('" ~ col ~ "' as " ~ text_type ~ ") as column_name, "
    ~ "cast(null as " ~ text_type ~ ") as value, count(*) as n_rows, " ~ example ~ " as example_key "
    ~ "from " ~ rows ~ " where " ~ col ~ " is null having count(*) > 0"
) -%}
{%- endfor -%}

{%- for col, values in accepted_values.items() -%}
{%- set quoted = [] -%}
{%- for v in values -%}{%- do quoted.append(dbt.string_literal(v)) -%}{%- endfor -%}
{%- set outside = col ~ ' not in (' ~ quoted | join(', ') ~ ')' -%}
{%- do conditions.append(outside) -%}
{%- do columns.append(col) if col not in columns -%}
{%- do branches.append(
    "select cast('accepted_values' as " ~ text_type ~ ") as check_name, cast('" ~ col ~ "' as " ~ text_type ~ ") as column_name, "
    ~ "cast(" ~ col ~ " as " ~ text_type ~ ") as value, count(*) as n_rows, " ~ example ~ " as example_key "
    ~ "from " ~ rows ~ " where " ~ outside ~ " group by " ~ col
) -%}
{%- endfor -%}

{%- for col, bounds in in_range.items() -%}
{%- set bad = [] -%}
{%- if bounds.get('min') is not none -%}{%- do bad.append(col ~ ' < ' ~ bounds['min']) -%}{%- endif -%}
{%- if bounds.get('max') is not none -%}{%- do bad.append(col ~ ' > ' ~ bounds['max']) -%}{%- endif -%}
{%- set outside = col ~ ' is not null and (' ~ (bad | join(' or ') or '1 = 0') ~ ')' -%}
{%- do conditions.append('(' ~ outside ~ ')') -%}
{%- do columns.append(col) if col not in columns -%}
{%- do branches.append(
    "select cast('in_range' as " ~ text_type ~ ") as check_name, cast('" ~ col ~ "' as " ~ text_type ~ ") as column_name, "
    ~ "cast(" ~ col ~ " as " ~ text_type ~ ") as value, count(*) as n_rows, " ~ example ~ " as example_key "
    ~ "from " ~ rows ~ " where " ~ outside ~ " group by " ~ col
) -%}
{%- endfor -%}

{#- Row expressions and keys read columns of their own: one query each, on the model. -#}
{%- for name, spec in expressions.items() -%}
{%- set expression = spec if spec is string else spec['expression'] -%}
{%- set where = none if spec is string else spec.get('where') -%}
{%- do branches.append(
    "select cast('expression' as " ~ text_type ~ ") as check_name, cast('" ~ name ~ "' as " ~ text_type ~ ") as column_name, "
    ~ "cast(null as " ~ text_type ~ ") as value, count(*) as n_rows, "
    ~ (('min(' ~ key_text ~ ')') if key else ('cast(null as ' ~ text_type ~ ')')) ~ " as example_key "
    ~ "from " ~ model ~ " where not coalesce((" ~ expression ~ "), false)"
    ~ ((" and (" ~ where ~ ")") if where else "") ~ " having count(*) > 0"
) -%}
{%- endfor -%}

{%- for cols in unique -%}
{%- set is_combination = cols is not string -%}
{%- set cols = cols if is_combination else [cols] -%}
{%- do branches.append(ww_unique_failures(model, cols, is_combination, text_type, key)) -%}
{%- endfor -%}

{%- if not branches -%}
{{ exceptions.raise_compiler_error("column_checks on " ~ model ~ ": give at least one of not_null, accepted_values, in_range, unique, expressions") }}
{%- endif -%}

{%- if one_scan and conditions %}
with failing as {{ ww_materialized() }} (
    select {{ columns | join(', ') }}{% if key %}, {{ key_text }} as _example_key{% endif %}
    from {{ model }}
    where {{ conditions | join('\n       or ') }}
)
{% endif -%}
{% for b in branches %}
select * from ({{ b }}) as check_{{ loop.index }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}


{#- DuckDB may inline a CTE into each of its readers; `materialized` keeps `failing` one scan.
    Spark has no such keyword (and only proves the SQL portable, on small data). -#}
{% macro ww_materialized() %}{{ return(adapter.dispatch('ww_materialized', 'windowwatch')()) }}{% endmacro %}
{% macro default__ww_materialized() %}{% endmacro %}
{% macro duckdb__ww_materialized() %}materialized{% endmacro %}


{#- The duplicated keys of `cols` in `model` as column_checks rows. A single column ignores nulls
    (dbt's unique); a combination groups nulls together (unique_combination). -#}
{% macro ww_unique_failures(model, cols, is_combination, text_type, key) %}
  {%- set example = ('min(cast(' ~ key ~ ' as ' ~ text_type ~ '))') if key else ('cast(null as ' ~ text_type ~ ')') -%}
  {{ return(adapter.dispatch('ww_unique_failures', 'windowwatch')(model, cols, is_combination, text_type, example)) }}
{% endmacro %}

{% macro default__ww_unique_failures(model, cols, is_combination, text_type, example) %}
  {%- set not_null = '' if is_combination else (' where ' ~ cols[0] ~ ' is not null') -%}
  {{ return(
    "select cast('unique' as " ~ text_type ~ ") as check_name, cast('" ~ cols | join(', ') ~ "' as " ~ text_type ~ ") as column_name, "
    ~ ww_key_text(cols, text_type) ~ " as value, count(*) as n_rows, " ~ example ~ " as example_key "
    ~ "from " ~ model ~ not_null ~ " group by " ~ cols | join(', ') ~ " having count(*) > 1"
  ) }}
{% endmacro %}

{#- DuckDB: grouping 11.5 M event_id strings costs seconds; take their 64-bit hashes instead and
    compare the real values only for the hashes seen twice (none, unless the key repeats or two
    keys collide) — the same answer, about a third cheaper. The hashes seen twice are found by
    sorting them (a repeat is equal to the one before it): at city scale 1.6 CPU-s for the 11.6 M
    event_ids of int_cases__events_latest where a hash aggregate over as many groups took 2.4-2.8
    (that test is on the incremental day's critical path). -#}
{% macro duckdb__ww_unique_failures(model, cols, is_combination, text_type, example) %}
  {%- set not_null = '' if is_combination else (cols[0] ~ ' is not null and ') -%}
  {%- set h = 'hash(' ~ cols | join(', ') ~ ')' -%}
  {{ return(
    "select cast('unique' as " ~ text_type ~ ") as check_name, cast('" ~ cols | join(', ') ~ "' as " ~ text_type ~ ") as column_name, "
    ~ ww_key_text(cols, text_type) ~ " as value, count(*) as n_rows, " ~ example ~ " as example_key "
    ~ "from " ~ model ~ " where " ~ not_null ~ h ~ " in ("
    ~ "select _h from (select _h, _h = lag(_h) over (order by _h) as _repeat from (select " ~ h ~ " as _h from " ~ model
    ~ ((" where " ~ cols[0] ~ " is not null") if not is_combination else "") ~ ")) where _repeat)"
    ~ " group by " ~ cols | join(', ') ~ " having count(*) > 1"
  ) }}
{% endmacro %}

{#- The key as one text value: 'a', or 'a, b' for a combination (null shown as null). -#}
{% macro ww_key_text(cols, text_type) -%}
  {%- if cols | length == 1 -%}
    {{ return("cast(" ~ cols[0] ~ " as " ~ text_type ~ ")") }}
  {%- endif -%}
  {%- set parts = [] -%}
  {%- for c in cols -%}
    {%- if not loop.first -%}{%- do parts.append("', '") -%}{%- endif -%}
    {%- do parts.append("coalesce(cast(" ~ c ~ " as " ~ text_type ~ "), 'null')") -%}
  {%- endfor -%}
  {{ return(dbt.concat(parts)) }}
{%- endmacro %}
