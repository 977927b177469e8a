-- Figures a bulletin reader saw but refused to emit, of current bulletin files; files known to be
-- about another province are left out (a file without a bulletins row is kept: it may be unreadable).
with other_province as (
    select file_sha256
    from {{ source('raw', 'bulletins') }}
    group by file_sha256
    having bool_and(province is not null and province <> '河南')
)

select
    cast(w.file_sha256 as varchar) as file_sha256,
    cast(w.file_path as varchar)   as file_path,
    cast(w.round_no as integer)    as round_no,
    cast(w.sentence as varchar)    as sentence,
    cast(w.reason as varchar)      as reason
from {{ source('raw', 'bulletin_warnings') }} as w
where {{ is_current_load('w') }}
  and w.file_sha256 not in (select file_sha256 from other_province)
