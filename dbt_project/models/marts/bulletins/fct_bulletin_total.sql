-- One row per round per stage as published: the provincial headline figures (no breakdown) of the
-- single stages signed / started / production, with their qualifier and published decimals.
-- A round and stage appear when a bulletin states at least one of the two measures. A figure is
-- taken only when every current bulletin source that states it agrees (within rounding); on a
-- conflict the value is NULL and *_status = 'conflict' (the statements are in rpt_bulletin_conflicts).
with headlines as (
    select *
    from {{ ref('int_bulletin_headlines_deduplicated') }}
    where stage_code is not null
),

counts as (
    select * from headlines where measure = 'project_count'
),

amounts as (
    select * from headlines where measure = 'investment_yi'
)

select
    coalesce(c.round_no, a.round_no)        as round_no,
    coalesce(c.stage_code, a.stage_code)    as stage_code,
    cast(c.value as integer)                as project_count,
    c.qualifier                             as project_count_qualifier,
    a.value                                 as investment_yi,
    a.value_decimals                        as investment_decimals,
    a.tolerance                             as investment_tolerance,
    a.qualifier                             as investment_qualifier,
    coalesce(c.has_conflicting_values, false)
        or coalesce(a.has_conflicting_values, false) as has_conflicting_values,
    c.source_text                           as project_count_source_text,
    a.source_text                           as investment_source_text,
    coalesce(c.file_path, a.file_path)      as bulletin_file_path,
    c.agreement_status                      as project_count_status,
    a.agreement_status                      as investment_status,
    greatest(coalesce(c.source_file_count, 0), coalesce(a.source_file_count, 0)) as source_file_count,
    c.figure_key                            as project_count_figure_key,
    a.figure_key                            as investment_figure_key
from counts as c
full outer join amounts as a
    on a.round_no = c.round_no and a.stage_code = c.stage_code
