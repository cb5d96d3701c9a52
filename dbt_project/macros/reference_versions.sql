{#- Reference versions (docs/rules.md#reference-versions; SPEC §3, v2 valid_from 生效日期).

    The versions of one key (int_reference__item_versions, int_reference__window_versions) tile
    time: version k covers [valid_from, valid_to), valid_to is the next version's valid_from; the
    first version reaches back to reference_beginning() and the last forward to reference_end(),
    so every key has exactly one version in force on every date. A rule reads the version in force
    on the date it is about — an item's limits on the case's acceptance date, a window's department
    on the acceptance date and, for monthly figures, on the month's first day:

        left join {{ ref('int_reference__item_versions') }} as items
            on items.item_code = cases.item_code and {{ version_in_force('items', 'cases.accepted_date') }}
-#}
{% macro version_in_force(alias, date) -%}
    {{ alias }}.valid_from <= {{ date }} and {{ date }} < {{ alias }}.valid_to
{%- endmacro %}

{#- Where the first version of a key starts and the last one ends (no null bounds: the join above
    stays two plain comparisons). -#}
{% macro reference_beginning() -%}
    cast('1900-01-01' as date)
{%- endmacro %}

{% macro reference_end() -%}
    cast('9999-12-31' as date)
{%- endmacro %}

{#- The interval columns of a versions model over `rows` (one row per key and delivered valid_from,
    which staging guarantees): version (1, 2, … in valid_from order, the undated row first),
    valid_from, valid_to. The undated row (v1: the latest delivery wins, for all time) is the
    version from the beginning; when a key has only dated rows its earliest reaches back too, so a
    case accepted before it keeps the limits v1 gave it. Deterministic: a full refresh computes
    the same intervals from the same landed rows, whenever it runs. -#}
{% macro version_intervals(key, delivered='delivered_valid_from') -%}
    row_number() over (partition by {{ key }} order by {{ delivered }} asc nulls first) as version,
    case
        when row_number() over (partition by {{ key }} order by {{ delivered }} asc nulls first) = 1
            then {{ reference_beginning() }}
        else {{ delivered }}
    end as valid_from,
    coalesce(
        lead({{ delivered }}) over (partition by {{ key }} order by {{ delivered }} asc nulls first),
        {{ reference_end() }}
    ) as valid_to
{%- endmacro %}
