-- Every submission row of every file version ever loaded, current or superseded: the one staging
-- view that keeps superseded versions, because revision history (rpt_submission_revisions) and load
-- accounting compare versions. Everything else reads stg_raw__submission_rows (current only).
with manifest as (
    select sha256, file_path, bool_or(superseded_at is null) as is_current
    from {{ source('raw', 'load_manifest') }}
    group by sha256, file_path
)

select
    cast(r.file_sha256 as varchar)          as file_sha256,
    cast(r.file_path as varchar)            as file_path,
    cast(r.sheet as varchar)                as sheet,
    cast(r.row_number as integer)           as row_number,
    cast(r.round_no as integer)             as round_no,
    cast(r.city_code as varchar)            as city_code,
    cast(r.stage_code as varchar)           as stage_code,
    cast(r.project_code as varchar)         as project_code,
    cast(r.project_name as varchar)         as project_name,
    cast(r.county as varchar)               as county,
    cast(r.sector_label as varchar)         as sector_label,
    cast(r.investment_yi as decimal(18, 4)) as investment_yi,
    -- NULL until the readers extract 项目单位 (see macros/optional_column.sql)
    {{ optional_column(source('raw', 'submission_rows'), 'enterprise', 'varchar', 'r') }} as enterprise,
    coalesce(m.is_current, false)           as is_current
from {{ source('raw', 'submission_rows') }} as r
left join manifest as m on m.sha256 = r.file_sha256 and m.file_path = r.file_path
