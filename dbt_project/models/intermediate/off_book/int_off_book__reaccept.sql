{#- OB_REACCEPT 退件重收 (docs/rules.md#ob-reaccept; SPEC §4.3 v2; 行政许可法 arts. 32, 42: the limit runs from
    受理, and a reject followed by a re-acceptance restarts it unseen): a case accepted at the same window as an earlier case of the same applicant and item
    that was rejected or withdrawn, accepted 0 … `reaccept_days` (10) calendar days after that reject/withdraw
    — the usual way to reset a clock (退件后重新受理). The evidence names the earlier case.

    - The earlier case E: a case with a `reject` or `withdraw` event (on or before the as-of date) that was not
      completed; its window, item and end are those of its first reject/withdraw event. E needs no `accept`
      (不予受理 often has none).
    - The later case L: an accepted case (int_cases__accepted), L ≠ E, at E's window (L's accept window) for
      E's item, accepted at or after E's reject/withdraw time, accept date − E's end date ≤ reaccept_days.
    - Same applicant: a case's applicant is the applicant_id hash (never the raw value: ingest.privacy) on its
      events as they stand — the current version of each event (int_cases__events_latest), the landed row
      read back for its hash (the events model carries no applicant column: privacy and width).
    One row per later case; signal_date = its acceptance date.

    Cost: E is a few per cent of cases; the landing rows are read for E's cases and for E's applicants only
    (semi-joins on the landed hash), then matched to the current events. -#}
{%- set events = ref('int_cases__events') %}
with ended_hits as {{ materialized_cte() }} (
    select events.event_rid
    from {{ case_events_narrow(events) }} as events
    where events.event_type in ('reject', 'withdraw')
),

ended_events as (
    select
        case_id,
        window_id,
        item_code,
        event_id,
        event_type,
        event_time,
        event_date,
        row_number() over (partition by case_id order by event_time, event_id) as event_rank
    from {{ case_events_fetch(events, 'ended_hits') }} as events
),

ended as {{ materialized_cte() }} (
    select ended_events.*
    from ended_events
    where event_rank = 1
      and not exists (
          select 1 from {{ ref('int_cases__accepted') }} as accepted
          where accepted.case_id = ended_events.case_id and accepted.status = 'completed'
      )
),

landed_applicants as (
    select event_id, case_id, applicant_id_hmac, _delivery_id, _line
    from {{ ref('int_cases__applicant_rows') }}
),

ended_applicant_rows as {{ materialized_cte() }} (
    select * from landed_applicants
    where case_id in (select case_id from ended)
),

same_applicant_rows as {{ materialized_cte() }} (
    select * from landed_applicants
    where applicant_id_hmac in (select applicant_id_hmac from ended_applicant_rows)
),

{#- the rows above that are the current version of their event (a corrected re-delivery replaces its hash) -#}
applicants as (
    select distinct landed.case_id, landed.applicant_id_hmac
    from (
        select * from ended_applicant_rows
        union all
        select * from same_applicant_rows
    ) as landed
    inner join {{ ref('int_cases__events_latest') }} as latest
        on latest.event_id = landed.event_id
       and latest._delivery_id = landed._delivery_id
       and latest._line = landed._line
       and latest.case_id = landed.case_id
    where cast(latest.event_time as date) <= {{ as_of_date() }}
),

pairs as (
    select
        later.case_id,
        later.window_id,
        later.department_id,
        later.accepted_at,
        cast(later.accepted_at as date) as accepted_date,
        ended.case_id as earlier_case_id,
        ended.event_type as earlier_event_type,
        ended.event_id as earlier_event_id,
        ended.event_time as earlier_event_time,
        {{ dbt.datediff('ended.event_date', 'cast(later.accepted_at as date)', 'day') }} as days_after
    from ended
    inner join applicants as ended_applicant on ended_applicant.case_id = ended.case_id
    inner join applicants as later_applicant
        on later_applicant.applicant_id_hmac = ended_applicant.applicant_id_hmac
       and later_applicant.case_id <> ended.case_id
    inner join {{ ref('int_cases__accepted') }} as later
        on later.case_id = later_applicant.case_id
       and later.window_id = ended.window_id
       and later.item_code = ended.item_code
       and later.accepted_at >= ended.event_time
    where cast(later.accepted_at as date) <= {{ as_of_date() }}
),

fired as (
    select distinct *
    from pairs
    where days_after between 0 and {{ var('reaccept_days') }}
)

select
    case_id,
    'OB_REACCEPT' as rule_id,
    window_id,
    department_id,
    min(accepted_date) as signal_date,
    {{ dbt.listagg(dbt.concat(["'accepted '", as_text('accepted_at'), "' after earlier case '", 'earlier_case_id',
                               "' '", 'earlier_event_type', "' '", 'earlier_event_id', "' '", as_text('earlier_event_time'),
                               "' (same applicant and item, '", as_text('days_after'), "' days)'"]),
                   "' | '", 'order by earlier_event_time, earlier_case_id') }} as evidence
from fired
group by case_id, window_id, department_id
