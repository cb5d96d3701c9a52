{#- Types, portable: the column types the dbt cross-database macros get wrong for us, text for
    evidence strings, and struct values.

    dbt.type_float() is REAL (4-byte) on DuckDB: 0.1 would come back as 0.10000000149011612.
    Every fractional value of the feeds (video_flags.confidence, transactions.fee_amount) is
    DOUBLE, as the marts publish rates and the landing Parquet stores them (Float64). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'windowwatch')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}
{% macro duckdb__type_double() -%}double{%- endmacro %}
{% macro spark__type_double() -%}double{%- endmacro %}

{#- Text of a value for evidence strings. -#}
{% macro as_text(expr) -%}
    cast({{ expr }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- A struct value of the given expressions under the given field names (an aggregate's min of it
    picks the row with the least first field, then second, ...; fields are read as value.name). -#}
{% macro struct_of(expressions, names) -%}
    {{ return(adapter.dispatch('struct_of', 'windowwatch')(expressions, names)) }}
{%- endmacro %}
{% macro default__struct_of(expressions, names) -%}
    struct_pack({% for e in expressions %}{{ names[loop.index0] }} := {{ e }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
{% macro spark__struct_of(expressions, names) -%}
    named_struct({% for e in expressions %}'{{ names[loop.index0] }}', {{ e }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
