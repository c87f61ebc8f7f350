{# A generic data test: the rows where a boolean expression over a model's columns is false. Put
   the expression in column_name, e.g. (previous_health_band != health_band). #}
{% test is_true(model, column_name) %}
    select * from {{ model }}
    where not ({{ column_name }})
{% endtest %}
