{# Rows where the expression is false. On a column, the expression continues the column: ">= 0". #}
{% test expression_is_true(model, expression, column_name=None) %}
select * from {{ model }}
where not ({% if column_name %}{{ column_name }} {% endif %}{{ expression }})
{% endtest %}
