-- One row per sector (产业领域) of the warehouse taxonomy, including unknown (未知): the industry
-- categories of the provincial bulletins of 2021-2024 (先进制造业 ... 其他, plus 现代农业 from city
-- lists) and the six 领域 of 2025 (产业转型发展 ... 民生和社会事业改善). domain_2025_code maps every
-- sector onto the 2025 list so sector mixes can be compared across the change of taxonomy.
select
    sector_code,
    sector_name_zh,
    sector_name_en,
    taxonomy,
    domain_2025_code,
    sort_order,
    sector_code = 'unknown' as is_unknown
from {{ ref('ref_sectors') }}
