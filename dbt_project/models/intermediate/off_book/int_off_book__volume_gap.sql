{#- OB_VOLUME_GAP 应进未进 (docs/rules.md#ob-volume-gap), per department and month (not per case): the department
    reported (dept_volumes) more than `volume_gap_ratio` × the cases the centre accepted for it that
    month (cases by acceptance month in the department's windows). Months after the as-of month
    are ignored. signal_date = the first day of the month. -#}
with reported as (
    select department_id, month, reported_cases
    from {{ ref('stg_landing__dept_volumes') }}
    where reported_cases is not null
      and month <= {{ as_of_date() }}
),

recorded as (
    select
        department_id,
        cast({{ dbt.date_trunc('month', 'accepted_at') }} as date) as month,
        count(*) as recorded_cases
    from {{ ref('int_cases__accepted') }}
    group by department_id, cast({{ dbt.date_trunc('month', 'accepted_at') }} as date)
),

compared as (
    select
        reported.department_id,
        reported.month,
        reported.reported_cases,
        coalesce(recorded.recorded_cases, 0) as recorded_cases
    from reported
    left join recorded
        on recorded.department_id = reported.department_id
       and recorded.month = reported.month
)

select
    department_id,
    'OB_VOLUME_GAP' as rule_id,
    month as signal_date,
    reported_cases,
    recorded_cases,
    {{ dbt.concat([
        "'department '", 'department_id', "' '", as_text('month'),
        "': reported '", as_text('reported_cases'), "' cases, centre recorded '", as_text('recorded_cases'),
        "case when recorded_cases > 0 then "
            ~ dbt.concat(["' ('", as_text('round(100.0 * reported_cases / recorded_cases, 1)'), "' %)'"])
            ~ " else '' end",
        "' > '", as_text('round(100.0 * ' ~ var('volume_gap_ratio') ~ ', 1)'), "' % threshold'"
    ]) }} as evidence
from compared
where reported_cases > {{ var('volume_gap_ratio') }} * recorded_cases
