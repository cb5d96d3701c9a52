{#- 窗口动态增减 monthly window adjustment (SPEC v2 §4.10; docs/rules.md#window-adjustment; the 福州 practice of
    adding or merging windows by the queue, under the centre's 考核细则): one row per business type and month
    with a ticket (int_hall__queue_business_type_month). proposal:
      +1 (增设窗口) when p90_wait_minutes > queue_add_p90_minutes [30] (exactly at it: no);
      −1 (合并窗口) when more than one window serves it (current_windows > 1), served_per_window_hour <
         queue_merge_per_hour [2] and p90_wait_minutes < queue_merge_p90_minutes [10] - all three;
       0 otherwise (also when a figure is unknown: no served wait, no open hour).
    evidence: the figures behind the proposal in Chinese, with the thresholds of the scoring file.
    Empty while the optional feed was never delivered. -#}
{%- set add_p90 = var('queue_add_p90_minutes') -%}
{%- set merge_per_hour = var('queue_merge_per_hour') -%}
{%- set merge_p90 = var('queue_merge_p90_minutes') -%}
with business_types as (
    select
        month,
        business_type,
        current_windows,
        tickets,
        served,
        p90_wait_minutes,
        open_window_hours,
        served_per_window_hour
    from {{ ref('int_hall__queue_business_type_month') }}
),

proposed as (
    select
        business_types.*,
        case
            when p90_wait_minutes > {{ add_p90 }} then 1
            when current_windows > 1
                and served_per_window_hour < {{ merge_per_hour }}
                and p90_wait_minutes < {{ merge_p90 }} then -1
            else 0
        end as proposal,
        coalesce(
            {{ dbt.concat(["'90%等候 '", as_text('round(p90_wait_minutes, 1)'), "' 分钟'"]) }},
            '无已办理的等候记录') as p90_text,
        coalesce(
            {{ dbt.concat(["'每开放小时办理 '", as_text('round(served_per_window_hour, 2)'), "' 张'"]) }},
            '无开放时段') as per_hour_text
    from business_types
)

select
    cast(month as date) as month,
    cast(business_type as {{ dbt.type_string() }}) as business_type,
    cast(current_windows as {{ dbt.type_bigint() }}) as current_windows,
    cast(tickets as {{ dbt.type_bigint() }}) as tickets,
    cast(p90_wait_minutes as {{ type_double() }}) as p90_wait_minutes,
    cast(served_per_window_hour as {{ type_double() }}) as served_per_window_hour,
    cast(proposal as {{ dbt.type_int() }}) as proposal,
    {{ dbt.concat([
        "case proposal"
            ~ " when 1 then " ~ dbt.concat(["'增设窗口：'", 'p90_text', "'，超过 " ~ ('%g' | format(add_p90 | float)) ~ " 分钟；'"])
            ~ " when -1 then " ~ dbt.concat([
                "'合并窗口：'", as_text('current_windows'), "' 个窗口'", 'per_hour_text',
                "'，低于 " ~ ('%g' | format(merge_per_hour | float)) ~ " 张；'", 'p90_text',
                "'，低于 " ~ ('%g' | format(merge_p90 | float)) ~ " 分钟；'"])
            ~ " else " ~ dbt.concat(["'维持：'", 'p90_text', "'，'", 'per_hour_text', "'；'"])
            ~ " end",
        "'本月取号 '", as_text('tickets'), "' 张，办理 '", as_text('served'), "' 张，'",
        as_text('current_windows'), "' 个窗口办理，共开放 '", as_text('round(open_window_hours, 1)'), "' 小时'"
    ]) }} as evidence
from proposed
