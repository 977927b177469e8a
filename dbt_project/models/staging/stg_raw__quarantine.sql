-- Quarantined rows, except those of superseded file versions (a file rejected before it reached the
-- manifest has no manifest row and is kept).
with superseded_only as (
    select sha256, file_path
    from {{ source('raw', 'load_manifest') }}
    group by sha256, file_path
    having bool_and(superseded_at is not null)
)

select
    cast(q.file_path as varchar)         as file_path,
    cast(q.file_sha256 as varchar)       as file_sha256,
    cast(q.sheet as varchar)             as sheet,
    cast(q.row_number as integer)        as row_number,
    cast(q.column_name as varchar)       as column_name,
    cast(q.raw_values as varchar)        as raw_values,
    cast(q.reason as varchar)            as reason,
    cast(q.quarantined_at as timestamp)  as quarantined_at
from {{ source('raw', 'quarantine') }} as q
where not exists (select 1 from superseded_only s where s.sha256 = q.file_sha256 and s.file_path = q.file_path)
