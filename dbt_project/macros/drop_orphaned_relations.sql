{#
    After a run, drop the tables and views in the schemas this project owns (staging, intermediate,
    marts) that no longer belong to any model: a model renamed, removed or turned ephemeral would
    otherwise linger in the warehouse and mislead analysts. Other schemas (raw, reference, dq,
    dq_failures) are left alone.
#}
{% macro drop_orphaned_relations(schemas=['staging', 'intermediate', 'marts']) %}
    {% if execute and flags.WHICH in ('run', 'build') %}
        {% set expected = [] %}
        {% for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized != 'ephemeral' %}
            {% do expected.append((node.schema | lower) ~ '.' ~ (node.alias | lower)) %}
        {% endfor %}
        {% set query %}
            select table_schema, table_name, table_type
            from information_schema.tables
            where table_catalog = current_database()
              and table_schema in ({% for s in schemas %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
        {% endset %}
        {% for row in run_query(query) %}
            {% set name = (row[0] | lower) ~ '.' ~ (row[1] | lower) %}
            {% if name not in expected %}
                {% set kind = 'view' if row[2] == 'VIEW' else 'table' %}
                {% do log('dropping ' ~ kind ~ ' ' ~ name ~ ': no model builds it any more', info=true) %}
                {% do run_query('drop ' ~ kind ~ ' if exists ' ~ row[0] ~ '.' ~ row[1] ~ ' cascade') %}
            {% endif %}
        {% endfor %}
    {% endif %}
{% endmacro %}
