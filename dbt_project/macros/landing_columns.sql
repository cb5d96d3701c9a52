{#- The typed columns of a landed feed, in landing order: one list for every model that reads the
    landing Parquet of that feed (stg_landing__transactions, int_cases__events_latest), so the
    casts cannot drift apart. The names and types mirror the landing schema of the feed contract
    (ingest.landing.landing_schema(feed), from core/feeds.py: PII columns as *_hmac,
    `drop` columns absent, metadata last); tests/dbt/test_dbt_marts.py checks that they agree.

    typed_landing_columns(feed, only=none): `cast(col as type) as col, ...` for every column, or
    for the columns named in `only` (kept in landing order). -#}

{% macro landing_column_types(feed) -%}
    {%- set feeds = {
        'transactions': [
            ('event_id', 'string'), ('case_id', 'string'), ('event_type', 'string'),
            ('event_time', 'timestamp'), ('recorded_at', 'timestamp'), ('window_id', 'string'),
            ('staff_id', 'string'), ('item_code', 'string'), ('channel', 'string'),
            ('extend_days', 'bigint'), ('applicant_id_hmac', 'string'), ('applicant_phone_hmac', 'string'),
            ('fee_amount', 'double'), ('fee_paid_at_center', 'boolean'),
            ('pause_reason', 'string'), ('approval_mode', 'string'),
            ('_delivery_id', 'string'), ('_source', 'string'), ('_line', 'bigint'), ('_ingested_at', 'timestamp'),
        ],
    } -%}
    {%- if feed not in feeds -%}
        {{ exceptions.raise_compiler_error("typed_landing_columns: no column list for feed '" ~ feed ~ "' (macros/landing_columns.sql)") }}
    {%- endif -%}
    {{ return(feeds[feed]) }}
{%- endmacro %}

{% macro landing_sql_type(kind) -%}
    {%- if kind == 'string' -%}{{ return(dbt.type_string()) }}
    {%- elif kind == 'timestamp' -%}{{ return(dbt.type_timestamp()) }}
    {%- elif kind == 'bigint' -%}{{ return(dbt.type_bigint()) }}
    {%- elif kind == 'boolean' -%}{{ return(dbt.type_boolean()) }}
    {%- elif kind == 'double' -%}{{ return(type_double()) }}
    {%- else -%}{{ exceptions.raise_compiler_error("typed_landing_columns: unknown type '" ~ kind ~ "' (macros/landing_columns.sql)") }}
    {%- endif -%}
{%- endmacro %}

{% macro typed_landing_columns(feed, only=none) -%}
    {%- set selected = [] -%}
    {%- for name, kind in landing_column_types(feed) if only is none or name in only -%}
        {%- do selected.append(dbt.safe_cast(name, landing_sql_type(kind)) ~ ' as ' ~ name) -%}
    {%- endfor -%}
    {%- if only is not none and selected | length != only | length -%}
        {{ exceptions.raise_compiler_error("typed_landing_columns: " ~ feed ~ " has no column among " ~ only | join(', ') ~ " for some (macros/landing_columns.sql)") }}
    {%- endif -%}
    {{ selected | join(',\n        ') }}
{%- endmacro %}
