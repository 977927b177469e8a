-- One row per published figure of a current Henan bulletin (one statement in one file), with the
-- round filled from the bulletin when the figure lacks it, the stage and measure named as in the
-- marts, city-level units resolved to a city code, sector breakdowns mapped to a sector, size-band
-- labels turned into bounds, the rounding tolerance, and figure_key: what the figure is about
-- (round, unit, stage, measure, breakdown), the same for every statement of the same figure in any file.
with figures as (
    select * from {{ ref('stg_raw__bulletin_figures') }}
),

bulletins as (
    select file_sha256, min(round_no) as round_no, min(source_url) as source_url
    from {{ ref('stg_raw__bulletins') }}
    group by file_sha256
),

manifest as (
    select file_sha256, max(loaded_at) as loaded_at
    from {{ ref('stg_raw__load_manifest') }}
    group by file_sha256
),

unit_aliases as (
    select * from {{ ref('int_unit_aliases_unnested') }}
),

sector_labels as (
    select * from {{ ref('int_sector_labels_unioned') }}
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
        nullif(trim(f.breakdown_category), '')                    as breakdown_category,
        f.breakdown_dimension is null                             as is_headline,
        f.source_text,
        f.char_start,
        f.char_end,
        f.file_sha256,
        f.file_path,
        b.source_url,
        m.loaded_at
    from figures as f
    left join bulletins as b using (file_sha256)
    left join manifest as m using (file_sha256)
),

keyed as (
    select
        *,
        concat_ws('|', file_sha256, unit_level, unit, stage_as_published, measure,
                  coalesce(breakdown_dimension, ''), coalesce(breakdown_category, ''),
                  cast(value as varchar), coalesce(source_text, ''),
                  coalesce(cast(char_start as varchar), '')) as figure_natural_key
    from shaped
),

resolved as (
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
        case when k.breakdown_dimension = 'size_band'
             then {{ size_label_bound('k.breakdown_category', 'lower') }} end as size_lower_yi,
        case when k.breakdown_dimension = 'size_band'
             then {{ size_label_bound('k.breakdown_category', 'upper') }} end as size_upper_yi,
        k.source_text,
        k.char_start,
        k.char_end,
        k.file_sha256,
        k.file_path,
        k.source_url,
        k.loaded_at
    from keyed as k
    left join unit_aliases as u
        on k.unit_level = 'city' and u.unit_alias = lower(trim(k.unit))
    left join sector_labels as s
        on k.breakdown_dimension = 'sector' and s.sector_label = k.breakdown_category
)

select
    *,
    md5(concat_ws('|',
        coalesce(cast(round_no as varchar), '?'),
        unit_level,
        case unit_level
            when 'province' then 'province'
            when 'city' then coalesce(nullif(city_code, '000000'), lower(trim(unit)))
            else lower(trim(unit))
        end,
        stage_as_published,
        measure,
        coalesce(breakdown_dimension, ''),
        case
            when breakdown_dimension = 'sector' and sector_code <> 'unknown' then sector_code
            when breakdown_dimension = 'size_band' and size_lower_yi is not null
                then cast(size_lower_yi as varchar) || '-' || coalesce(cast(size_upper_yi as varchar), '')
            else coalesce(breakdown_category, '')
        end
    ))                                                                 as figure_key
from resolved
