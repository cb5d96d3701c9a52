{#- Custom schemas are used as-is (staging, intermediate, marts, seeds), not prefixed with the
    target schema: the published interface is schema `marts` (docs/rules.md). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
