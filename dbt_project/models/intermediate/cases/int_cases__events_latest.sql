{#- delete+insert is a dbt-duckdb (and Postgres/Snowflake) strategy; dbt-spark on plain Parquet
    tables has only append/insert_overwrite, so other targets build it as a table. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='fail',
) }}
{#- Every transaction event ever landed, one row per event_id (the latest recorded_at wins; tie:
    latest _ingested_at, then _delivery_id, _line — the same rule as stg_landing__transactions),
    with no as-of filter: nothing here depends on the as-of date, so it is built incrementally.

    Incremental run: the winner over all landed rows of an event is the winner over (its current
    row here ∪ its rows in deliveries not seen yet), because the ranking is a total order and
    landing is append-only (an event never disappears). So a run reads only the new deliveries'
    rows — picked by a constant `_delivery_id in (…)` list that DuckDB prunes whole files with
    (min/max statistics) — ranks them against the current rows of the same event_ids and
    replaces those (delete+insert by event_id). The new deliveries are the landed _delivery_ids
    (a one-column scan) not found here; a delivery whose rows all lost their ranking is thus
    merged again next run (same result, a little work). After landing is rewritten (re-ingest,
    deleted deliveries) run with --full-refresh. Everything that depends on the as-of date
    (events ≤ as-of, pauses, deadlines, cards) stays in the tables downstream, rebuilt every run. -#}
{%- if is_incremental() -%}
{%- set new_deliveries = [] -%}
{%- if execute -%}
    {%- set landed = run_query("select distinct cast(_delivery_id as varchar) from " ~ source('landing', 'transactions')
                               ~ " where _delivery_id is not null").columns[0].values() -%}
    {%- set seen = run_query("select distinct _delivery_id from " ~ this).columns[0].values() -%}
    {%- for d in landed | sort if d not in seen -%}{%- do new_deliveries.append(d) -%}{%- endfor -%}
{%- endif -%}
{%- endif -%}
with typed as (
    select
        {{ typed_landing_columns('transactions', only=['event_id', 'case_id', 'event_type', 'event_time', 'recorded_at',
            'window_id', 'staff_id', 'item_code', 'channel', 'extend_days', '_delivery_id', '_line', '_ingested_at']) }}
    from {{ source('landing', 'transactions') }}
    where event_id is not null
    {%- if is_incremental() %}
      {%- if new_deliveries %}
      and _delivery_id in ({% for d in new_deliveries %}{{ dbt.string_literal(d) }}{{ ", " if not loop.last }}{% endfor %})
      {%- else %}
      and false {#- no new delivery: nothing to merge #}
      {%- endif %}
    {%- endif %}
),

{% if is_incremental() %}
candidates as (
    select * from typed
    union all
    select
        current_rows.event_id, current_rows.case_id, current_rows.event_type, current_rows.event_time,
        current_rows.recorded_at, current_rows.window_id, current_rows.staff_id, current_rows.item_code,
        current_rows.channel, current_rows.extend_days, current_rows._delivery_id, current_rows._line,
        current_rows._ingested_at
    from {{ this }} as current_rows
    where current_rows.event_id in (select event_id from typed)
),
{% else %}
candidates as (
    select * from typed
),
{% endif %}

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by event_id
            order by coalesce(recorded_at, event_time) desc, _ingested_at desc, _delivery_id desc, _line desc
        ) as _row_rank
    from candidates
)

select
    event_id,
    case_id,
    event_type,
    event_time,
    recorded_at,
    window_id,
    staff_id,
    item_code,
    channel,
    extend_days,
    _delivery_id,
    _line,
    _ingested_at
from ranked
where _row_rank = 1
