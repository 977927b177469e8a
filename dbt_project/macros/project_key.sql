{#
    Surrogate key of a project: md5(coalesce(project_code, city_code || '|' || project_name)).
    A project with a code keeps its key whatever city or name it is filed under; a project
    without a code is identified by the submitting city and its name.
#}
{% macro project_key(project_code, city_code, project_name) -%}
    md5(coalesce({{ project_code }}, {{ city_code }} || '|' || {{ project_name }}))
{%- endmacro %}
