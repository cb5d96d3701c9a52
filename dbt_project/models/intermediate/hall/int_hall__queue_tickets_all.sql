{#- 排队叫号 tickets (SPEC v2 §4.10 Queue; docs/rules.md#queue): one row per landed ticket_id, whatever its
    date, with what every queue figure reads. The figures read int_hall__queue_tickets, the tickets
    issued on or before the as-of date: a view over this table, so that a build at a new as-of date
    with no new tickets keeps this table (windowwatch/unchanged_nodes.py; performance, docs/scaling.md).
    - month: first day of the month of issued_at (the month the ticket counts in).
    - department_id: the calling window's department in force on the month's first day
      (int_reference__window_versions, docs/rules.md#reference-versions); null for a ticket no window called.
    - is_served / is_no_show / is_cancelled: status served 已办理 / no_show 过号 / cancelled 取消 (a ticket
      without a status is none of them, and still a ticket).
    - wait_minutes 等候时长 = called_at − issued_at, for served tickets only (a no-show also waited, but
      nobody was served: the wait the window adjustment is about is that of the people served); null when
      called_at is missing or before issued_at (a broken clock is no wait).
    - service_minutes 办理时长 = finished_at − served_at, for served tickets; null when either is missing
      or finished_at is before served_at. -#}
with tickets as (
    select
        ticket_id,
        center_id,
        business_type,
        window_id,
        issued_at,
        called_at,
        served_at,
        finished_at,
        status,
        cast({{ dbt.date_trunc('month', 'issued_at') }} as date) as month
    from {{ ref('stg_landing__queue_tickets') }}
    where issued_at is not null
)

select
    tickets.ticket_id,
    tickets.center_id,
    tickets.business_type,
    tickets.window_id,
    window_version.department_id,
    tickets.month,
    tickets.issued_at,
    tickets.called_at,
    tickets.served_at,
    tickets.finished_at,
    tickets.status,
    coalesce(tickets.status = 'served', false) as is_served,
    coalesce(tickets.status = 'no_show', false) as is_no_show,
    coalesce(tickets.status = 'cancelled', false) as is_cancelled,
    case
        when tickets.status = 'served' and tickets.called_at >= tickets.issued_at
            then cast({{ seconds_between('tickets.issued_at', 'tickets.called_at') }} as {{ type_double() }}) / 60
    end as wait_minutes,
    case
        when tickets.status = 'served' and tickets.finished_at >= tickets.served_at
            then cast({{ seconds_between('tickets.served_at', 'tickets.finished_at') }} as {{ type_double() }}) / 60
    end as service_minutes
from tickets
left join {{ ref('int_reference__window_versions') }} as window_version
    on window_version.window_id = tickets.window_id
    and {{ version_in_force('window_version', 'tickets.month') }}
