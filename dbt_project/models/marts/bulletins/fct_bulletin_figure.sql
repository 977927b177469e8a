-- One row per figure statement in a current Henan bulletin file (公布数字): headlines and breakdowns,
-- provincial, city and county figures, single and combined stages, with provenance: file, sha256,
-- source URL, the sentence and its character span in the article. Several files (a JSON and a text
-- version, a provincial and a city report) can state the same figure: figure_key groups them,
-- agreement_status says whether they agree and is_preferred_statement marks the one taken.
with figures as (
    select * from {{ ref('int_bulletin_figures_resolved') }}
),

agreement as (
    select figure_key, agreement_status, preferred_figure_id, source_file_count
    from {{ ref('int_bulletin_figure_agreement') }}
)

select
    f.figure_id,
    f.round_no,
    f.unit,
    f.unit_level,
    f.city_code,
    f.stage_as_published,
    f.stage_code,
    f.is_combined_stage,
    f.measure,
    f.value,
    f.value_decimals,
    f.tolerance,
    f.qualifier,
    f.is_headline,
    f.breakdown_dimension,
    f.breakdown_category,
    f.sector_code,
    f.source_text,
    f.file_path,
    f.file_sha256,
    f.source_url,
    f.char_start,
    f.char_end,
    f.size_lower_yi,
    f.size_upper_yi,
    f.loaded_at,
    f.figure_key,
    a.agreement_status,
    a.source_file_count,
    f.figure_id = a.preferred_figure_id     as is_preferred_statement
from figures as f
join agreement as a using (figure_key)
