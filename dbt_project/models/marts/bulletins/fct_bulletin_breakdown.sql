-- One row per breakdown figure statement as published (分类数字) in a current Henan bulletin: a count
-- or amount for one sector (分行业/分领域), size band (分规模) or capital source (分来源) of a stage,
-- with the category mapped where it can be (sector_code; size bounds in 亿元), the headline it
-- breaks down (same round, unit, stage and measure, when the sources agree on it) and its share,
-- and provenance. Bulletins do leave lines out (round 15's 投产 breakdown lists 683 of 1033
-- projects), so the breakdowns of a stage need not add up to its headline.
with figures as (
    select * from {{ ref('fct_bulletin_figure') }}
    where not is_headline
),

headlines as (
    select
        round_no, unit_level, unit, city_code, stage_as_published, measure,
        case when is_agreed then preferred_value end as headline_value
    from {{ ref('int_bulletin_figure_agreement') }}
    where is_headline
),

headline_by_unit as (
    select
        round_no, unit_level,
        case when unit_level = 'province' then 'province'
             when unit_level = 'city' then coalesce(nullif(city_code, '000000'), lower(trim(unit)))
             else lower(trim(unit)) end as unit_identity,
        stage_as_published, measure,
        -- one headline per unit (several names of one city are one unit)
        max(headline_value) as headline_value
    from headlines
    group by all
)

select
    f.figure_id,
    f.figure_key,
    f.round_no,
    f.unit,
    f.unit_level,
    f.city_code,
    f.stage_as_published,
    f.stage_code,
    f.measure,
    f.breakdown_dimension,
    f.breakdown_category,
    f.sector_code,
    f.size_lower_yi,
    f.size_upper_yi,
    case when f.breakdown_dimension = 'size_band' then b.size_band_code end as size_band_code,
    f.value,
    f.value_decimals,
    f.tolerance,
    f.qualifier,
    h.headline_value,
    cast(round(f.value / nullif(h.headline_value, 0), 4) as decimal(9, 4)) as share_of_headline,
    f.agreement_status,
    f.is_preferred_statement,
    f.source_text,
    f.char_start,
    f.char_end,
    f.file_path,
    f.file_sha256,
    f.source_url
from figures as f
left join headline_by_unit as h
    on h.round_no = f.round_no
   and h.unit_level = f.unit_level
   and h.unit_identity = case when f.unit_level = 'province' then 'province'
                              when f.unit_level = 'city' then coalesce(nullif(f.city_code, '000000'), lower(trim(f.unit)))
                              else lower(trim(f.unit)) end
   and h.stage_as_published = f.stage_as_published
   and h.measure = f.measure
-- a published range that is exactly one size band of dim_size_band
left join {{ ref('dim_size_band') }} as b
    on b.lower_yi = f.size_lower_yi
   and b.upper_yi is not distinct from f.size_upper_yi
