{#- OB_INSTANT 秒办 (docs/rules.md#ob-instant): a promised item whose promised_limit ≥ `instant_min_promised_limit`
    goes from accept to its first complete in less than `instant_minutes` (exactly the threshold
    does not fire; a complete before the accept is a data error, not a signal).
    signal_date = the completion date.
    Exemption (docs/rules.md#ob-instant): a case whose approval mode — its accept event's, else its
    item's, else standard — is commitment 告知承诺 or tolerance 容缺受理 is decided on the spot by design
    and never fires. -#}
with cases as (
    select
        case_id,
        accept_event_id,
        window_id,
        department_id,
        item_code,
        promised_limit,
        accepted_at,
        completed_at,
        {{ micros_between('accepted_at', 'completed_at') }} as duration_us
    from {{ ref('int_cases__accepted') }}
    where item_kind = 'promised'
      and promised_limit >= {{ var('instant_min_promised_limit') }}
      and completed_at is not null
      and cast(completed_at as date) <= {{ as_of_date() }}
),

fast as (
    select *
    from cases
    where duration_us >= 0
      and duration_us < {{ var('instant_minutes') }} * 60000000.0
),

{#- the approval mode of the few fast cases: their accept event's, else their item's -#}
exempt as (
    select fast.case_id
    from fast
    left join {{ ref('int_cases__events') }} as accepts
        on accepts.event_id = fast.accept_event_id and accepts.case_id = fast.case_id
    left join {{ ref('int_reference__item_versions') }} as items
        on items.item_code = fast.item_code and {{ version_in_force('items', 'cast(fast.accepted_at as date)') }}
    where coalesce(accepts.approval_mode, items.approval_mode, 'standard') in ('commitment', 'tolerance')
)

select
    case_id,
    'OB_INSTANT' as rule_id,
    window_id,
    department_id,
    cast(completed_at as date) as signal_date,
    {{ dbt.concat([
        "'accept '", as_text('accepted_at'), "' complete '", as_text('completed_at'),
        "' ('", as_text('round(duration_us / 60000000.0, 1)'), "' min; item '", 'item_code',
        "' promised limit '", as_text('promised_limit'), "')'"
    ]) }} as evidence
from fast
where case_id not in (select case_id from exempt)
