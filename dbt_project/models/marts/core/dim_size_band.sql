-- One row per project size band (规模档次) by total investment in 亿元: a band holds
-- lower_yi <= investment < upper_yi (upper_yi NULL = open above). Bulletins publish thresholds such
-- as 10亿元以上 that span several bands: fct_bulletin_breakdown keeps their own bounds.
select
    size_band_code,
    size_band_name_zh,
    size_band_name_en,
    cast(lower_yi as decimal(18, 4)) as lower_yi,
    cast(upper_yi as decimal(18, 4)) as upper_yi,
    sort_order
from {{ ref('ref_size_bands') }}
