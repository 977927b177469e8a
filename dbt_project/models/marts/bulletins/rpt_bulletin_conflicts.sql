-- One row per statement of a figure that the current bulletin sources state with values that cannot
-- all be right (数字冲突): same round, unit, stage, measure and breakdown, but no value within every
-- statement's rounding tolerance. No value is taken for such a figure (fct_bulletin_total and
-- rpt_reconciliation show it as a conflict); this report shows each source's value and where it
-- stands in which file, so a person can decide.
with agreement as (
    select *
    from {{ ref('int_bulletin_figure_agreement') }}
    where agreement_status = 'conflict'
)

select
    f.figure_key,
    f.round_no,
    f.unit_level,
    f.unit,
    f.city_code,
    f.stage_as_published,
    f.measure,
    f.breakdown_dimension,
    f.breakdown_category,
    f.value,
    f.value_decimals,
    f.tolerance,
    f.qualifier,
    a.statement_count,
    a.source_file_count,
    a.values_stated,
    f.file_path,
    f.file_sha256,
    f.source_url,
    f.source_text,
    f.char_start,
    f.char_end,
    f.loaded_at
from {{ ref('fct_bulletin_figure') }} as f
join agreement as a using (figure_key)
