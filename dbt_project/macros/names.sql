{#
    Normalised project name for matching a project across rounds when its code is missing:
    lower case, no white space or punctuation (half- and full-width), and no trailing 项目, so
    "郑州 光电产业园（一期）项目" and "郑州光电产业园(一期)" compare equal.
#}
{% macro normalize_project_name(column) -%}
    regexp_replace(
        regexp_replace(
            lower(trim({{ column }})),
            '[\s　“”"''‘’（）()【】\[\]《》<>·•、,，.。:：;；!！?？\-—–_/\\]', '', 'g'),
        '项目$', '')
{%- endmacro %}
