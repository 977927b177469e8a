-- One row per sector of the warehouse taxonomy, including unknown (未知).
select
    sector_code,
    sector_name_zh,
    sector_name_en,
    sector_code = 'unknown' as is_unknown
from {{ ref('ref_sectors') }}
