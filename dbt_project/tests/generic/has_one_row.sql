{# A single-row lookup table has exactly one row. #}
{% test has_one_row(model) %}
select count(*) as n_rows from {{ model }} having count(*) <> 1
{% endtest %}
