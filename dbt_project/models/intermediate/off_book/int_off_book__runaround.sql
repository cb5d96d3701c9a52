{#- OB_RUNAROUND 两头跑 (docs/rules.md#ob-runaround; 国办发〔2019〕51号 evaluation reasons): an evaluation (evaluated ≤ the as-of date) of the case carries
    the reason `multiple_trips` 多次跑 or `sent_to_department` 让去原单位办.
    One row per case; signal_date = the date of the first such evaluation. -#}
with evaluations as (
    select evaluation_id, case_id, evaluated_at, reason_codes
    from {{ ref('stg_landing__evaluations') }}
    where case_id is not null
      and cast(evaluated_at as date) <= {{ as_of_date() }}
),

fired as (
    select evaluations.*
    from evaluations
    where {{ dbt.concat(["';'", 'reason_codes', "';'"]) }} like '%;multiple_trips;%'
       or {{ dbt.concat(["';'", 'reason_codes', "';'"]) }} like '%;sent_to_department;%'
),

cases as (
    select case_id, window_id, department_id
    from {{ ref('int_cases__accepted') }}
)

select
    cases.case_id,
    'OB_RUNAROUND' as rule_id,
    cases.window_id,
    cases.department_id,
    min(cast(fired.evaluated_at as date)) as signal_date,
    {{ dbt.listagg(dbt.concat(["'evaluation '", 'fired.evaluation_id', "' '", as_text('fired.evaluated_at'),
                               "' reasons '", 'fired.reason_codes']),
                   "'; '", 'order by fired.evaluated_at, fired.evaluation_id') }} as evidence
from fired
inner join cases on cases.case_id = fired.case_id
group by cases.case_id, cases.window_id, cases.department_id
