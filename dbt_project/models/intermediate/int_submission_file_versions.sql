-- One row per submission file version (报送文件版本) ever loaded, current or superseded, numbered in
-- order of arrival within its round and reporting unit (version_no 1 = first), with the previous
-- version's sha256 and the version's project count and 亿元 per stage.
{{ config(materialized='ephemeral') }}

with manifest as (
    select *
    from {{ ref('stg_raw__load_manifest') }}
    where file_kind = 'submission'
),

row_totals as (
    select
        file_sha256,
        count(*) filter (where stage_code = 'signed')                      as signed_count,
        coalesce(sum(investment_yi) filter (where stage_code = 'signed'), 0)     as signed_investment_yi,
        count(*) filter (where stage_code = 'started')                     as started_count,
        coalesce(sum(investment_yi) filter (where stage_code = 'started'), 0)    as started_investment_yi,
        count(*) filter (where stage_code = 'production')                  as production_count,
        coalesce(sum(investment_yi) filter (where stage_code = 'production'), 0) as production_investment_yi,
        count(*)                                                           as row_count
    from {{ ref('stg_raw__submission_rows_all_versions') }}
    group by file_sha256
),

ordered as (
    select
        m.*,
        row_number() over w                              as version_no,
        count(*) over (partition by m.round_no, m.city_code) as version_count,
        lag(m.file_sha256) over w                        as previous_file_sha256
    from manifest as m
    window w as (partition by m.round_no, m.city_code order by m.loaded_at, m.file_path, m.file_sha256)
)

select
    o.file_sha256,
    o.file_path,
    o.round_no,
    o.city_code                                          as submitted_city_code,
    o.version_no,
    o.version_count,
    o.previous_file_sha256,
    o.is_current,
    o.loaded_at,
    o.superseded_at,
    o.rows_read,
    o.rows_loaded,
    o.rows_quarantined,
    coalesce(t.row_count, 0)                             as row_count,
    coalesce(t.signed_count, 0)                          as signed_count,
    cast(coalesce(t.signed_investment_yi, 0) as decimal(18, 4))     as signed_investment_yi,
    coalesce(t.started_count, 0)                         as started_count,
    cast(coalesce(t.started_investment_yi, 0) as decimal(18, 4))    as started_investment_yi,
    coalesce(t.production_count, 0)                      as production_count,
    cast(coalesce(t.production_investment_yi, 0) as decimal(18, 4)) as production_investment_yi
from ordered as o
left join row_totals as t using (file_sha256)
