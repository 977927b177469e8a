{#
    A source column that older raw tables may not have yet (e.g. `enterprise` 项目单位, which the
    submission readers do not extract so far): select it when the relation has it, else a typed NULL,
    so staging keeps one shape whatever the loader writes.
#}
{% macro optional_column(relation, column_name, data_type, table_alias=none) -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for col in adapter.get_columns_in_relation(relation) -%}
            {%- if col.name | lower == column_name | lower -%}{%- do present.append(1) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if present -%}
        cast({% if table_alias %}{{ table_alias }}.{% endif %}{{ column_name }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
