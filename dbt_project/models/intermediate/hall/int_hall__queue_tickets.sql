{#- 排队叫号 tickets issued on or before the as-of date (SPEC v2 §4.10 Queue; docs/rules.md#queue): what every
    queue figure reads. The rows and their derived columns are int_hall__queue_tickets_all's, which does not
    read the as-of date and is kept by a build with no new tickets (windowwatch/unchanged_nodes.py). -#}
{{ config(materialized='view') }}
select
    ticket_id,
    center_id,
    business_type,
    window_id,
    department_id,
    month,
    issued_at,
    called_at,
    served_at,
    finished_at,
    status,
    is_served,
    is_no_show,
    is_cancelled,
    wait_minutes,
    service_minutes
from {{ ref('int_hall__queue_tickets_all') }}
where cast(issued_at as date) <= {{ as_of_date() }}
