{#- True for a raw row whose file version is current. A load is a (path, bytes) pair: identical bytes
    loaded from two paths are two loads, and a superseded version keeps its rows as history. -#}
{% macro is_current_load(alias) -%}
exists (
    select 1
    from {{ source('raw', 'load_manifest') }} as current_load
    where current_load.superseded_at is null
      and current_load.sha256 = {{ alias }}.file_sha256
      and current_load.file_path = {{ alias }}.file_path
)
{%- endmacro %}
