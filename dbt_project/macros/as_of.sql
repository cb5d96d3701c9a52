{#- The date the build is "as of" (var as_of_date, 'YYYY-MM-DD'; windowwatch.transform.build always
    passes it). Events after it are ignored, open pauses and open cases run to it. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value == '' -%}
        current_date
    {%- else -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}
