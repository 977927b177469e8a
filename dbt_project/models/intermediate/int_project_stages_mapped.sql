-- Current submission rows with the city conformed to the city dimension, the sector label mapped
-- to a sector, the size band and the project key computed, and the name normalised for matching.
-- Still one row per submitted row.
{{ config(materialized='ephemeral') }}

with rows as (
    select * from {{ ref('stg_raw__submission_rows') }}
),

unit_aliases as (
    select * from {{ ref('int_unit_aliases_unnested') }}
),

sector_labels as (
    select * from {{ ref('int_sector_labels_unioned') }}
),

cleaned as (
    select
        file_sha256,
        file_path,
        sheet,
        row_number,
        round_no,
        city_code                                  as submitted_city_code,
        stage_code,
        nullif(trim(project_code), '')             as project_code,
        trim(project_name)                         as project_name,
        nullif(trim(county), '')                   as county,
        nullif(trim(sector_label), '')             as sector_label,
        nullif(trim(enterprise), '')               as enterprise,
        investment_yi
    from rows
)

select
    {{ project_key('c.project_code', 'c.submitted_city_code', 'c.project_name') }} as project_key,
    c.round_no,
    c.stage_code,
    coalesce(u.unit_code, '000000')                as city_code,
    c.submitted_city_code,
    u.unit_code is not null                        as is_city_known,
    c.project_code,
    c.project_name,
    {{ normalize_project_name('c.project_name') }} as project_name_normalized,
    c.county,
    c.enterprise,
    c.sector_label,
    coalesce(s.sector_code, 'unknown')             as sector_code,
    c.investment_yi,
    {{ size_band_code('c.investment_yi') }}        as size_band_code,
    c.file_sha256,
    c.file_path,
    c.sheet,
    c.row_number
from cleaned as c
left join unit_aliases as u
    on u.unit_alias = lower(trim(c.submitted_city_code))
left join sector_labels as s
    on s.sector_label = c.sector_label
