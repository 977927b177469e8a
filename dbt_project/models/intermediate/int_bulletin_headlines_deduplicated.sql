-- One row per round per stage (as published, including combined stages) per measure: the
-- province-level headline figure. When a bulletin states the same headline more than once, the
-- most exact statement wins (exact before approx before lower_bound, then more decimals);
-- figure_count and distinct_value_count show repeats and conflicts.
with figures as (
    select *
    from {{ ref('int_bulletin_figures_resolved') }}
    where unit_level = 'province'
      and is_headline
      and round_no is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by round_no, stage_as_published, measure
            order by case qualifier when 'exact' then 1 when 'approx' then 2 else 3 end,
                     value_decimals desc, file_path, figure_id
        ) as figure_rank,
        count(*) over (partition by round_no, stage_as_published, measure) as figure_count,
        count(distinct value) over (partition by round_no, stage_as_published, measure) as distinct_value_count
    from figures
)

select
    round_no,
    stage_as_published,
    stage_code,
    is_combined_stage,
    measure,
    value,
    value_decimals,
    tolerance,
    qualifier,
    figure_id,
    figure_count,
    distinct_value_count,
    distinct_value_count > 1 as has_conflicting_values,
    source_text,
    file_path
from ranked
where figure_rank = 1
