-- Provincial bulletins of current file versions, Henan only (山西 and others use the same wording).
select
    cast(b.file_sha256 as varchar)                     as file_sha256,
    cast(b.file_path as varchar)                       as file_path,
    cast(b.province as varchar)                        as province,
    cast(b.round_no as integer)                        as round_no,
    cast(b.held_on as date)                            as held_on,
    cast(b.main_venue as varchar)                      as main_venue,
    cast(b.source_url as varchar)                      as source_url,
    cast(b.cumulative_rounds as integer)               as cumulative_rounds,
    cast(b.cumulative_projects as integer)             as cumulative_projects,
    cast(b.cumulative_investment_yi as decimal(18, 4)) as cumulative_investment_yi,
    cast(b.cumulative_qualifier as varchar)            as cumulative_qualifier
from {{ source('raw', 'bulletins') }} as b
where {{ is_current_load('b') }}
  and b.province = '河南'
