{#- `AS MATERIALIZED` for a CTE on DuckDB, nothing elsewhere (Spark has no such hint): a plan hint,
    there only for speed.
    The off-book rules filter 11.6 M events down to a few thousand before they join the 2.6 M
    cases; without the hint DuckDB's join-order optimizer moved the case join below the filter
    (int_off_book__handover joined every event to its case first: 3.4 of its 3.5 CPU-s at city
    scale). Materialising the filtered CTE keeps the cheap filter first. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'windowwatch')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}{%- endmacro %}

{% macro duckdb__materialized_cte() -%}materialized{%- endmacro %}
