{#- Column types the dbt cross-database macros get wrong for us.

    dbt.type_float() is REAL (4-byte) on DuckDB: 0.1 would come back as 0.10000000149011612.
    Every fractional value of the feeds (video_flags.confidence, transactions.fee_amount) is
    DOUBLE, as SPEC §5 publishes rates and the landing Parquet stores them (Float64). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'windowwatch')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}
{% macro duckdb__type_double() -%}double{%- endmacro %}
{% macro spark__type_double() -%}double{%- endmacro %}
