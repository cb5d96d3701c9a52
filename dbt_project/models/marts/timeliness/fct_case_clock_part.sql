{#- How the counted clock of a case was counted (docs/rules.md#timeliness-signals, SPEC §4.2.1): one row per
    pause and per extension of an accepted case, with the working days it asked for, the working days the
    clock counts and the rule that decided (null: an ordinary part, counted in full). The case page explains
    a deadline from these rows; the rules live in the intermediate models named below, not here. -#}
with pauses as (
    select
        case_id,
        {{ dbt.concat(["'pause_'", 'pause_kind']) }} as part,
        start_event_id as event_id,
        start_date,
        end_date,
        is_open,
        paused_workdays as workdays,
        case when is_counted then paused_workdays else 0 end as counted_workdays,
        rule_id
    from {{ ref('int_timeliness__pauses_counted') }}
),

extensions as (
    select
        case_id,
        'extension' as part,
        event_id,
        event_date as start_date,
        cast(null as date) as end_date,
        false as is_open,
        requested_days as workdays,
        counted_days as counted_workdays,
        rule_id
    from {{ ref('int_timeliness__extensions') }}
)

select
    case_id,
    cast(part as {{ dbt.type_string() }}) as part,
    event_id,
    start_date,
    end_date,
    is_open,
    cast(workdays as {{ dbt.type_int() }}) as workdays,
    cast(counted_workdays as {{ dbt.type_int() }}) as counted_workdays,
    rule_id
from pauses
union all
select
    case_id,
    part,
    event_id,
    start_date,
    end_date,
    is_open,
    cast(workdays as {{ dbt.type_int() }}),
    cast(counted_workdays as {{ dbt.type_int() }}),
    rule_id
from extensions
