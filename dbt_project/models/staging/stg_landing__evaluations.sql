{#- evaluations: typed landing rows, one per evaluation_id.
    Events: re-delivery of the same evaluation_id with a later recorded_at is an update, so the row with
    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic).

    A table, built incrementally on DuckDB: three models read it (int_calendar__days,
    int_satisfaction__evaluations, int_off_book__runaround), and as a view each of them re-ranked all 2 M landed
    rows. Nothing here depends on the as-of date, so the int_cases__events_latest rule applies:
    the winner over all landed rows of an evaluation_id is the winner over (its current row here
    ∪ its rows in deliveries not seen yet) because the ranking is a total order and landing is
    append-only. A run reads only the landed deliveries whose _delivery_id is not here yet (a
    constant `_delivery_id in (…)` list DuckDB prunes files with), ranks them against the current
    rows of the same ids and replaces those (delete+insert by evaluation_id; the key is required
    at ingest, never null). After landing is rewritten, run with --full-refresh. Spark has no
    delete+insert on Parquet tables: a table there. -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='evaluation_id',
    on_schema_change='fail',
) }}
{%- if is_incremental() -%}
{%- set new_deliveries = unmerged_deliveries(source('landing', 'evaluations'), this) -%}
{%- endif %}
with source as (
    select * from {{ source('landing', 'evaluations') }}
),

typed as (
    select
        {{ dbt.safe_cast('evaluation_id', dbt.type_string()) }} as evaluation_id,
        {{ dbt.safe_cast('case_id', dbt.type_string()) }} as case_id,
        {{ dbt.safe_cast('window_id', dbt.type_string()) }} as window_id,
        {{ dbt.safe_cast('staff_id', dbt.type_string()) }} as staff_id,
        {{ dbt.safe_cast('rating', 'tinyint') }} as rating,
        {{ dbt.safe_cast('channel', dbt.type_string()) }} as channel,
        {{ dbt.safe_cast('evaluated_at', dbt.type_timestamp()) }} as evaluated_at,
        {{ dbt.safe_cast('recorded_at', dbt.type_timestamp()) }} as recorded_at,
        {{ dbt.safe_cast('round', dbt.type_bigint()) }} as round,
        {{ dbt.safe_cast('reason_codes', dbt.type_string()) }} as reason_codes,
        {{ dbt.safe_cast('comment', dbt.type_string()) }} as comment,
        {{ dbt.safe_cast('is_real_name', dbt.type_boolean()) }} as is_real_name,
        {{ dbt.safe_cast('verified_at', dbt.type_timestamp()) }} as verified_at,
        {{ dbt.safe_cast('verdict', dbt.type_string()) }} as verdict,
        {{ dbt.safe_cast('rectified_at', dbt.type_timestamp()) }} as rectified_at,
        {{ dbt.safe_cast('callback_at', dbt.type_timestamp()) }} as callback_at,
        {{ dbt.safe_cast('device_id', dbt.type_string()) }} as device_id,
        {{ dbt.safe_cast('appeal_at', dbt.type_timestamp()) }} as appeal_at,
        {{ dbt.safe_cast('appeal_result', dbt.type_string()) }} as appeal_result,
        {{ dbt.safe_cast('callback_result', dbt.type_string()) }} as callback_result,
        {{ dbt.safe_cast('_delivery_id', dbt.type_string()) }} as _delivery_id,
        {{ dbt.safe_cast('_source', dbt.type_string()) }} as _source,
        {{ dbt.safe_cast('_line', dbt.type_bigint()) }} as _line,
        {{ dbt.safe_cast('_ingested_at', dbt.type_timestamp()) }} as _ingested_at
    from source
    {%- if is_incremental() %}
    where {{ only_deliveries(new_deliveries) }}
    {%- endif %}
),

{% if is_incremental() %}
candidates as (
    {{ with_current_rows('typed', 'evaluation_id') }}
),
{% else %}
candidates as (
    select * from typed
),
{% endif %}

{#- Ranking every row costs a window over all of them (4 of the model's 6 CPU-s at city scale,
    where no id is delivered twice): only the ids that occur more than once are ranked. -#}
repeated_ids as (
    select evaluation_id
    from candidates
    group by evaluation_id
    having count(*) > 1
),

ranked as (
    select
        candidates.*,
        row_number() over (partition by evaluation_id order by coalesce(recorded_at, evaluated_at) desc, _ingested_at desc, _delivery_id desc, _line desc) as _row_rank
    from candidates
    where evaluation_id in (select evaluation_id from repeated_ids)
),

latest as (
    select candidates.*
    from candidates
    where not exists (select 1 from repeated_ids where repeated_ids.evaluation_id = candidates.evaluation_id)
    union all
    select
        evaluation_id, case_id, window_id, staff_id, rating, channel, evaluated_at, recorded_at, round,
        reason_codes, comment, is_real_name, verified_at, verdict, rectified_at, callback_at,
        device_id, appeal_at, appeal_result, callback_result,
        _delivery_id, _source, _line, _ingested_at
    from ranked
    where _row_rank = 1
)

select
    evaluation_id,
    case_id,
    window_id,
    staff_id,
    rating,
    channel,
    evaluated_at,
    recorded_at,
    round,
    reason_codes,
    comment,
    is_real_name,
    verified_at,
    verdict,
    rectified_at,
    callback_at,
    device_id,
    appeal_at,
    appeal_result,
    callback_result,
    _delivery_id,
    _source,
    _line,
    _ingested_at
from latest
