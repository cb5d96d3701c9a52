{#- Fails for every row where `expression` is not true (optionally only rows matching `where_clause`). -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% if where_clause is not none %}  and ({{ where_clause }}){% endif %}
{% endtest %}
