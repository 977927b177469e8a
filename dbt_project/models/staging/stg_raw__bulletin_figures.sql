-- Figures of current Henan bulletin files only (a figure whose file has no Henan bulletin row is left out).
with henan_files as (
    select file_sha256
    from {{ source('raw', 'bulletins') }}
    where province = '河南'
)

select
    cast(f.file_sha256 as varchar)          as file_sha256,
    cast(f.file_path as varchar)            as file_path,
    cast(f.round_no as integer)             as round_no,
    cast(f.unit as varchar)                 as unit,
    cast(f.unit_level as varchar)           as unit_level,
    cast(f.stage as varchar)                as stage_as_published,
    cast(f.measure as varchar)              as measure_as_published,
    cast(f.value as decimal(18, 4))         as value,
    cast(f.value_decimals as integer)       as value_decimals,
    cast(f.qualifier as varchar)            as qualifier,
    cast(f.breakdown_dimension as varchar)  as breakdown_dimension,
    cast(f.breakdown_category as varchar)   as breakdown_category,
    cast(f.source_text as varchar)          as source_text,
    cast(f.char_start as integer)           as char_start,
    cast(f.char_end as integer)             as char_end
from {{ source('raw', 'bulletin_figures') }} as f
where {{ is_current_load('f') }}
  and f.file_sha256 in (select file_sha256 from henan_files)
