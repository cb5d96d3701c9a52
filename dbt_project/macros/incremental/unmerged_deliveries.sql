{#- The two incremental merges of landed rows (int_cases__events_latest, stg_landing__evaluations)
    read only the deliveries they have not merged yet.

    unmerged_deliveries(landing, merged): the landed _delivery_ids (a one-column scan of `landing`)
    not found in `merged` (the model's own table, `this`), sorted. Call inside is_incremental().
    only_deliveries(ids): the filter `_delivery_id in ('…', …)` — a constant list, so DuckDB prunes
    whole landing files by their min/max statistics — or `false` when there is nothing new. -#}

{% macro unmerged_deliveries(landing, merged) -%}
    {%- set new_deliveries = [] -%}
    {%- if execute -%}
        {%- set landed = run_query("select distinct cast(_delivery_id as varchar) from " ~ landing
                                   ~ " where _delivery_id is not null").columns[0].values() -%}
        {%- set seen = run_query("select distinct _delivery_id from " ~ merged).columns[0].values() -%}
        {%- for d in landed | sort if d not in seen -%}{%- do new_deliveries.append(d) -%}{%- endfor -%}
    {%- endif -%}
    {{ return(new_deliveries) }}
{%- endmacro %}

{% macro only_deliveries(delivery_ids) -%}
    {%- if delivery_ids -%}
        _delivery_id in ({% for d in delivery_ids %}{{ dbt.string_literal(d) }}{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        false {#- no new delivery: nothing to merge -#}
    {%- endif -%}
{%- endmacro %}

{#- with_current_rows(new_rows, key): the new deliveries' rows plus the rows already merged for the
    same keys — the candidates the latest-row ranking picks from. Only in is_incremental(), which is
    DuckDB-only here, hence `union all by name`. -#}
{% macro with_current_rows(new_rows, key) -%}
    select * from {{ new_rows }}
    union all by name
    select * from {{ this }} as current_rows
    where current_rows.{{ key }} in (select {{ key }} from {{ new_rows }})
{%- endmacro %}
