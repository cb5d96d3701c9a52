{#- OB_BACKFILL 补录 (SPEC §4.3): an accept or complete event recorded more than `backfill_hours`
    after it happened (recorded_at − event_time > threshold; exactly the threshold does not fire).
    One row per case; signal_date = the date of the first offending event. -#}
with offending as (
    select
        case_id,
        window_id,
        department_id,
        event_id,
        event_type,
        event_time,
        event_date,
        recorded_at,
        {{ micros_between('event_time', 'recorded_at') }} as lag_us
    from {{ ref('int_off_book__case_events') }}
    where event_type in ('accept', 'complete')
),

fired as (
    select
        *,
        {{ dbt.concat([
            'event_type', "' '", 'event_id', "' '", as_text('event_time'),
            "' 录入 '", as_text('recorded_at'),
            "' (+'", as_text('round(lag_us / 3600000000.0, 1)'), "' h)'"
        ]) }} as evidence_part
    from offending
    where lag_us > {{ var('backfill_hours') }} * 3600000000.0
)

select
    case_id,
    'OB_BACKFILL' as rule_id,
    window_id,
    department_id,
    min(event_date) as signal_date,
    {{ dbt.listagg('evidence_part', "'; '", 'order by event_time, event_id') }} as evidence
from fired
group by case_id, window_id, department_id
