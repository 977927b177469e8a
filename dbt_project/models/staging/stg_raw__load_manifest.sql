-- The file-version catalogue itself: every version, current or superseded (its history is the point).
-- Downstream models use is_current; the other staging views already keep current versions only.
select
    cast(file_path as varchar)          as file_path,
    cast(sha256 as varchar)             as file_sha256,
    cast(kind as varchar)               as file_kind,
    cast(round_no as integer)           as round_no,
    cast(city_code as varchar)          as city_code,
    cast(rows_read as integer)          as rows_read,
    cast(rows_loaded as integer)        as rows_loaded,
    cast(rows_quarantined as integer)   as rows_quarantined,
    -- 合计, section and note rows: not project rows, outside rows_read (added to raw later: optional)
    {{ optional_column(source('raw', 'load_manifest'), 'rows_skipped', 'integer') }} as rows_skipped,
    cast(loaded_at as timestamp)        as loaded_at,
    cast(source_root as varchar)        as source_root,
    cast(stored_path as varchar)        as stored_path,
    cast(superseded_at as timestamp)    as superseded_at,
    superseded_at is null               as is_current
from {{ source('raw', 'load_manifest') }}
