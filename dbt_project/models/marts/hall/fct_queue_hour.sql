{#- 排队叫号 by hour of the day (SPEC v2 §4.10 Queue; docs/rules.md#queue): the same figures as fct_queue_month
    (macros/hall_queue.sql, one definition) per month × business type × hour the ticket was issued, so the
    大厅运行 page can show when the waits build up. Empty when the queue_tickets feed was never delivered. -#}
with hours as (
    select
        month,
        business_type,
        extract(hour from issued_at) as hour,
        {{ queue_month_figures() }}
    from {{ ref('int_hall__queue_tickets') }}
    group by month, business_type, extract(hour from issued_at)
)

select
    cast(month as date) as month,
    cast(business_type as {{ dbt.type_string() }}) as business_type,
    cast(hour as {{ dbt.type_int() }}) as hour,
    cast(tickets as {{ dbt.type_bigint() }}) as tickets,
    cast(served as {{ dbt.type_bigint() }}) as served,
    cast(no_shows as {{ dbt.type_bigint() }}) as no_shows,
    cast(cancelled as {{ dbt.type_bigint() }}) as cancelled,
    cast(no_show_rate as double) as no_show_rate,
    cast(avg_wait_minutes as double) as avg_wait_minutes,
    cast(p90_wait_minutes as double) as p90_wait_minutes,
    cast(avg_service_minutes as double) as avg_service_minutes
from hours
