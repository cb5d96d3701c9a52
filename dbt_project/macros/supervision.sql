{#- The one deadline rule of the supervision workflow 督办 (SPEC §4.11, §4.6; docs/rules.md#supervision-marts):
    a step (回告 acknowledgement by reply_by, 整改 rectification by fix_by) is on time when it was done on
    or before the deadline's date — "acknowledged after its reply-by date" is late, a step done
    on the deadline day is not. A step not done yet is late once the deadline's date is before the
    as-of date (the build's day: a run at 21:00 on the deadline day is not late yet), and undecided
    (null) before. No deadline (the item was never notified, or was reopened): null.
    windowwatch/supervision/stats.py counts the same way from the live store. -#}
{% macro done_by_deadline(done_at, deadline) -%}
    case
        when {{ deadline }} is null then null
        when {{ done_at }} is not null then cast({{ done_at }} as date) <= cast({{ deadline }} as date)
        when cast({{ deadline }} as date) < {{ as_of_date() }} then false
    end
{%- endmacro %}

{#- The monthly 督办 figures of int_supervision__item_month summed per `key` (window_id or department_id):
    rows only for the months with a figure, items without that key counted nowhere. -#}
{% macro supervision_month_figures(key) -%}
select
    month,
    {{ key }},
    cast(sum(opened) as {{ dbt.type_bigint() }}) as supervision_items_opened,
    cast(sum(acknowledged_on_time) as {{ dbt.type_bigint() }}) as supervision_acknowledged_on_time,
    cast(sum(escalated) as {{ dbt.type_bigint() }}) as supervision_escalated
from {{ ref('int_supervision__item_month') }}
where {{ key }} is not null
group by month, {{ key }}
{%- endmacro %}
