{#- 排队叫号 monthly figures (SPEC v2 §4.10 Queue, §5; docs/rules.md#queue), two scopes in one table:
    scope 'window' - one row per window and month in which the window called a ticket (business_type
    null; department_id the window's on the month's first day); scope 'business_type' - one row per
    business type and month with a ticket, called or not (window_id and department_id null; the figures of
    int_hall__queue_business_type_month). Figures: macros/hall_queue.sql (queue_month_figures), on the
    tickets of int_hall__queue_tickets. Empty while the optional feed was never delivered. -#}
with tickets as (
    select * from {{ ref('int_hall__queue_tickets') }}
),

scoped as (
    select
        month,
        'window' as scope,
        window_id,
        department_id,
        cast(null as {{ dbt.type_string() }}) as business_type,
        {{ queue_month_figures() }}
    from tickets
    where window_id is not null
    group by month, window_id, department_id

    union all

    select
        month,
        'business_type' as scope,
        cast(null as {{ dbt.type_string() }}) as window_id,
        cast(null as {{ dbt.type_string() }}) as department_id,
        business_type,
        {{ queue_month_figures() }}
    from tickets
    where business_type is not null
    group by month, business_type
)

select
    cast(month as date) as month,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(window_id as {{ dbt.type_string() }}) as window_id,
    cast(department_id as {{ dbt.type_string() }}) as department_id,
    cast(business_type as {{ dbt.type_string() }}) as business_type,
    cast(tickets as {{ dbt.type_bigint() }}) as tickets,
    cast(served as {{ dbt.type_bigint() }}) as served,
    cast(no_shows as {{ dbt.type_bigint() }}) as no_shows,
    cast(cancelled as {{ dbt.type_bigint() }}) as cancelled,
    cast(no_show_rate as {{ type_double() }}) as no_show_rate,
    cast(avg_wait_minutes as {{ type_double() }}) as avg_wait_minutes,
    cast(p90_wait_minutes as {{ type_double() }}) as p90_wait_minutes,
    cast(avg_service_minutes as {{ type_double() }}) as avg_service_minutes
from scoped
