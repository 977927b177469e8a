-- One row per round per stage (as published, including combined stages) per measure: the
-- province-level headline figure, taken only when every statement of it agrees
-- (int_bulletin_figure_agreement). On a conflict value, decimals, tolerance, qualifier and source
-- are NULL and has_conflicting_values is true; figure_key leads to the statements in
-- rpt_bulletin_conflicts.
with agreement as (
    select *
    from {{ ref('int_bulletin_figure_agreement') }}
    where unit_level = 'province'
      and is_headline
      and round_no is not null
)

select
    round_no,
    stage_as_published,
    stage_code,
    is_combined_stage,
    measure,
    case when is_agreed then preferred_value end             as value,
    case when is_agreed then preferred_value_decimals end    as value_decimals,
    case when is_agreed then preferred_tolerance end         as tolerance,
    case when is_agreed then preferred_qualifier end         as qualifier,
    case when is_agreed then preferred_figure_id end         as figure_id,
    figure_key,
    statement_count                                          as figure_count,
    source_file_count,
    distinct_value_count,
    not is_agreed                                            as has_conflicting_values,
    agreement_status,
    case when is_agreed then preferred_source_text end       as source_text,
    case when is_agreed then preferred_file_path end         as file_path
from agreement
