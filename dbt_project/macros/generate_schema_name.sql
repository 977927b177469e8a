{#
    Use a node's custom schema as written (staging, intermediate, marts, reference, dq_failures)
    instead of dbt's default "<target_schema>_<custom_schema>" (which would give main_marts).
    Nodes without a custom schema go to the target's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
