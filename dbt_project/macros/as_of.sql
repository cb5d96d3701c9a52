{#- The date the build is "as of" ('YYYY-MM-DD'). Events after it are ignored, open pauses and
    open cases run to it.

    Where it comes from, first found: the var as_of_date (a dbt unit test's `overrides: vars:`, or
    `--vars` by hand), else the environment variable WINDOWWATCH_AS_OF (what
    windowwatch.transform.build sets), else today (current_date).

    Why not --vars every day: any change of --vars makes dbt drop partial parsing and re-parse the
    whole project (~4 s at every daily run at city scale). The environment variable is read only when
    the SQL is compiled (`execute`), never while parsing: dbt records an env_var() read during
    parsing against the model's file and re-parses every such file when the value changes. No
    parse-time decision needs the date (refs, configs and tests do not depend on it), so a run
    whose only change is the date reuses the saved parse. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if (value is none or value == '') and execute -%}
        {%- set value = env_var('WINDOWWATCH_AS_OF', '') -%}
    {%- endif -%}
    {%- if value is none or value == '' -%}
        current_date
    {%- else -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}
