{#- 一日三查 spot-check schedule (SPEC v2 §4.10, docs/rules.md#spot-checks): per centre and WORKING day
    (int_calendar__days: 调休 make-up days work, holidays do not), the video_spot inspections done
    (window-level and hall-wide alike) against spot_checks_per_day [3] of the scoring file; met when
    done ≥ required. Rows for the centre-months the inspections feed covers (the centre has an
    inspection of any method that month): every working day of that month up to and including the
    as-of date, done 0 when nothing was checked. A video_spot on a non-working day has no row. -#}
with inspections as (
    select center_id, month, inspected_date, method
    from {{ ref('int_hall__inspections') }}
    where center_id is not null
),

covered as (
    select distinct center_id, month
    from inspections
),

done as (
    select center_id, inspected_date as date, count(*) as done
    from inspections
    where method = 'video_spot'
    group by center_id, inspected_date
),

working_days as (
    select date, cast({{ dbt.date_trunc('month', 'date') }} as date) as month
    from {{ ref('int_calendar__days') }}
    where is_workday and date <= {{ as_of_date() }}
)

select
    covered.center_id,
    working_days.date,
    coalesce(done.done, 0) as done,
    cast({{ var('spot_checks_per_day') }} as integer) as required,
    coalesce(done.done, 0) >= {{ var('spot_checks_per_day') }} as met
from covered
inner join working_days on working_days.month = covered.month
left join done on done.center_id = covered.center_id and done.date = working_days.date
