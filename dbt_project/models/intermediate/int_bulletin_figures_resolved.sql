-- One row per published figure of a current Henan bulletin, with the round filled from the
-- bulletin when the figure lacks it, the stage and measure named as in the marts, city-level units
-- resolved to a city code, sector breakdowns mapped to a sector, and the rounding tolerance.
with figures as (
    select * from {{ ref('stg_raw__bulletin_figures') }}
),

bulletins as (
    select file_sha256, min(round_no) as round_no, min(source_url) as source_url
    from {{ ref('stg_raw__bulletins') }}
    group by file_sha256
),

unit_aliases as (
    select * from {{ ref('int_unit_aliases_unnested') }}
),

sector_labels as (
    select * from {{ ref('ref_sector_labels') }}
),

shaped as (
    select
        coalesce(f.round_no, b.round_no) as round_no,
        f.unit,
        f.unit_level,
        f.stage_as_published,
        case when f.stage_as_published in ('signed', 'started', 'production')
             then f.stage_as_published end                        as stage_code,
        f.stage_as_published not in ('signed', 'started', 'production') as is_combined_stage,
        case f.measure_as_published
            when 'projects' then 'project_count'
            else f.measure_as_published
        end                                                       as measure,
        f.value,
        f.value_decimals,
        f.qualifier,
        f.breakdown_dimension,
        f.breakdown_category,
        f.breakdown_dimension is null                             as is_headline,
        f.source_text,
        f.file_sha256,
        f.file_path,
        b.source_url
    from figures as f
    left join bulletins as b using (file_sha256)
),

keyed as (
    select
        *,
        concat_ws('|', file_sha256, unit_level, unit, stage_as_published, measure,
                  coalesce(breakdown_dimension, ''), coalesce(breakdown_category, ''),
                  cast(value as varchar), coalesce(source_text, '')) as figure_natural_key
    from shaped
)

select
    md5(
        k.figure_natural_key || '|'
        || row_number() over (partition by k.figure_natural_key order by k.value_decimals, k.qualifier)
    )                                                              as figure_id,
    k.round_no,
    k.unit,
    k.unit_level,
    case when k.unit_level = 'city' then coalesce(u.unit_code, '000000') end as city_code,
    k.stage_as_published,
    k.stage_code,
    k.is_combined_stage,
    k.measure,
    k.value,
    k.value_decimals,
    {{ rounding_tolerance('k.measure', 'k.value_decimals') }}      as tolerance,
    k.qualifier,
    k.is_headline,
    k.breakdown_dimension,
    k.breakdown_category,
    case when k.breakdown_dimension = 'sector'
         then coalesce(s.sector_code, 'unknown') end               as sector_code,
    k.source_text,
    k.file_sha256,
    k.file_path,
    k.source_url
from keyed as k
left join unit_aliases as u
    on k.unit_level = 'city' and u.unit_alias = lower(trim(k.unit))
left join sector_labels as s
    on k.breakdown_dimension = 'sector' and s.sector_label = trim(k.breakdown_category)
