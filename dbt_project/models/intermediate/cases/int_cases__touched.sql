{#- The cases each delivery touched: the bookkeeping of the incremental case models
    (macros/incremental/README.md), one row per (case_id, _delivery_id), appended once per delivery.
    A delivery touches the cases of its rows AND of every landed version of the same event_ids:
    a re-delivered correction can move an event to another case, and the case it leaves changes
    too. (All versions, not just the replaced winner: a superset, so still exact, and it needs no
    reading of int_cases__events_latest before its merge.)
    A full build records each landed delivery once with a null case_id: everything downstream is
    then rebuilt in full, so no case is owed. Spark builds a table (no incremental case models). -#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
) }}
{%- if is_incremental() -%}
{%- set new_deliveries = unmerged_deliveries(source('landing', 'transactions'), this) -%}
{%- endif -%}
{#- Landed columns as stored (strings, cast on the way out only): a cast on the probe side, or one
    landed CTE read twice (materialized), made this a 10 s scan at city instead of 0.4 s. -#}
{% if is_incremental() %}
with new_rows as (
    select event_id, _delivery_id
    from {{ source('landing', 'transactions') }}
    where event_id is not null
      and {{ only_deliveries(new_deliveries) }}
)

select distinct
    cast(landed.case_id as {{ dbt.type_string() }}) as case_id,
    cast(new_rows._delivery_id as {{ dbt.type_string() }}) as _delivery_id
from {{ source('landing', 'transactions') }} as landed
inner join new_rows on new_rows.event_id = landed.event_id
where landed.case_id is not null
union
{# every new delivery once, even one whose rows name no case #}
select cast(null as {{ dbt.type_string() }}) as case_id, cast(_delivery_id as {{ dbt.type_string() }}) as _delivery_id
from new_rows
{% else %}
select distinct
    cast(null as {{ dbt.type_string() }}) as case_id,
    cast(_delivery_id as {{ dbt.type_string() }}) as _delivery_id
from {{ source('landing', 'transactions') }}
where _delivery_id is not null
{% endif %}
