{#- Seed loading on Spark (the scale-out target, docs/rules.md#portability). DuckDB never calls
    this: dbt dispatches `spark__*` implementations only when the adapter is Spark. -#}

{#- Seeds on Spark. dbt-spark's own spark__load_csv_rows sends each value as a `?` binding that
    the `session` method pastes into the SQL text unescaped: a value with a quote ("New Year's
    Day" in seeds/official_calendar.csv) breaks the statement, and an empty cell arrives as the
    text 'None'. Here every value is an escaped literal and an empty cell is NULL, which is what
    DuckDB loads. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set batch_size = get_batch_size() -%}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(batch_size) -%}
    {%- set sql -%}
      insert into {{ this.render() }} values
      {% for row in chunk -%}
        ({%- for col_name in agate_table.column_names -%}
          {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
          {%- set value = row[loop.index0] -%}
          {%- if value is none -%}
            cast(null as {{ type }})
          {%- else -%}
            cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
          {%- endif -%}
          {%- if not loop.last %},{% endif -%}
        {%- endfor -%})
        {%- if not loop.last %},{% endif %}
      {% endfor -%}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- if loop.index0 == 0 -%}{%- do statements.append(sql) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(statements[0] if statements else '') }}
{% endmacro %}
