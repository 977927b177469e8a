{#
    Fails (or warns, with severity: warn) for every row of the model that meets `condition`,
    returning the whole row so the stored failure can be read on its own.
#}
{% test no_rows_where(model, condition) %}
{{ config(store_failures=true) }}

select *
from {{ model }}
where {{ condition }}

{% endtest %}
