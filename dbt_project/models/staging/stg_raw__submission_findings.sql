-- Findings about current submission file versions (合计 mismatches, duplicate projects, implausible
-- amounts, one project code under two units ...), renamed and typed.
select
    cast(f.file_sha256 as varchar)      as file_sha256,
    cast(f.file_path as varchar)        as file_path,
    cast(f.round_no as integer)         as round_no,
    cast(f.city_code as varchar)        as city_code,
    cast(f.sheet as varchar)            as sheet,
    cast(f.row_number as integer)       as row_number,
    cast(f.finding as varchar)          as finding,
    cast(f.detail as varchar)           as detail,
    cast(f.expected as decimal(18, 4))  as expected,
    cast(f.actual as decimal(18, 4))    as actual
from {{ source('raw', 'submission_findings') }} as f
where {{ is_current_load('f') }}
