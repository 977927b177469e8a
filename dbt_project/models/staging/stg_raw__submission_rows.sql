-- City submission rows of current file versions only.
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
    -- not in the raw contract yet: NULL until the readers extract 项目单位 (see macros/optional_column.sql)
    {{ optional_column(source('raw', 'submission_rows'), 'enterprise', 'varchar', 'r') }} as enterprise
from {{ source('raw', 'submission_rows') }} as r
where {{ is_current_load('r') }}
