{#- intervals_tile_time: the validity intervals [valid_from, valid_to) of each key's versions tile time —
    the first starts at reference_beginning(), each ends where the next begins (no gap, no overlap),
    the last ends at reference_end() (macros/reference_versions.sql; docs/rules.md#reference-versions).
    So exactly one version of a key is in force on any date, and every join on version_in_force finds
    one row. Each failing version is one row: the key, its valid_from and valid_to, and what is wrong. -#}
{% test intervals_tile_time(model, key, valid_from='valid_from', valid_to='valid_to') %}
with ordered as (
    select
        {{ key }} as version_key,
        {{ valid_from }} as valid_from,
        {{ valid_to }} as valid_to,
        lag({{ valid_to }}) over (partition by {{ key }} order by {{ valid_from }}) as previous_valid_to,
        row_number() over (partition by {{ key }} order by {{ valid_from }}) as position,
        count(*) over (partition by {{ key }}) as versions
    from {{ model }}
)

select
    version_key,
    valid_from,
    valid_to,
    case
        when valid_from is null or valid_to is null then 'open bound'
        when valid_from >= valid_to then 'empty interval'
        when position = 1 and valid_from <> {{ reference_beginning() }} then 'first version starts late (a gap)'
        when position > 1 and valid_from < previous_valid_to then 'overlaps the previous version'
        when position > 1 and valid_from > previous_valid_to then 'gap after the previous version'
        when position = versions and valid_to <> {{ reference_end() }} then 'last version ends (a gap)'
    end as problem
from ordered
where valid_from is null or valid_to is null
   or valid_from >= valid_to
   or (position = 1 and valid_from <> {{ reference_beginning() }})
   or (position > 1 and valid_from <> previous_valid_to)
   or (position = versions and valid_to <> {{ reference_end() }})
{% endtest %}
