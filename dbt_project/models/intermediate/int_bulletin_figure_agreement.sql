-- One row per figure_key: one figure (round, unit, stage as published, measure, breakdown) and every
-- statement of it in the current bulletin files (a JSON and a text version, a provincial and a city
-- report, or one sentence repeated). Each statement stands for an interval: value ± its rounding
-- tolerance, or [value − tolerance, ∞) for a lower bound (超…, …以上). The statements agree when
-- their intervals have a point in common; then the most exact statement is taken (exact before
-- approx before lower_bound, then more decimals, then the file loaded last). When they do not
-- agree no value is taken (agreed_value NULL, agreement_status = conflict): the conflict is listed
-- in rpt_bulletin_conflicts instead of being resolved silently.
with figures as (
    select
        *,
        value - coalesce(tolerance, 0)                                       as interval_low,
        case when qualifier <> 'lower_bound' then value + coalesce(tolerance, 0) end as interval_high
    from {{ ref('int_bulletin_figures_resolved') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by figure_key
            order by case qualifier when 'exact' then 1 when 'approx' then 2 else 3 end,
                     value_decimals desc nulls last, loaded_at desc nulls last, file_path, figure_id
        ) as statement_rank
    from figures
),

summary as (
    select
        figure_key,
        count(*)                                   as statement_count,
        count(distinct file_sha256)                as source_file_count,
        count(distinct value)                      as distinct_value_count,
        min(value)                                 as min_value,
        max(value)                                 as max_value,
        max(interval_low)                          as common_low,
        -- NULL when every statement is a lower bound (open above)
        min(interval_high)                         as common_high,
        string_agg(distinct cast(value as varchar) || ' (' || file_path || ')', '; '
                   order by cast(value as varchar) || ' (' || file_path || ')') as values_stated
    from figures
    group by figure_key
)

select
    r.figure_key,
    r.round_no,
    r.unit,
    r.unit_level,
    r.city_code,
    r.stage_as_published,
    r.stage_code,
    r.is_combined_stage,
    r.measure,
    r.is_headline,
    r.breakdown_dimension,
    r.breakdown_category,
    r.sector_code,
    r.size_lower_yi,
    r.size_upper_yi,
    s.statement_count,
    s.source_file_count,
    s.distinct_value_count,
    s.min_value,
    s.max_value,
    s.values_stated,
    s.common_high is null or s.common_low <= s.common_high        as is_agreed,
    case
        when s.statement_count = 1 then 'single'
        when s.common_high is null or s.common_low <= s.common_high then 'agreed'
        else 'conflict'
    end                                                            as agreement_status,
    r.figure_id                                                    as preferred_figure_id,
    r.value                                                        as preferred_value,
    r.value_decimals                                               as preferred_value_decimals,
    r.tolerance                                                    as preferred_tolerance,
    r.qualifier                                                    as preferred_qualifier,
    r.source_text                                                  as preferred_source_text,
    r.file_path                                                    as preferred_file_path,
    r.file_sha256                                                  as preferred_file_sha256
from ranked as r
join summary as s using (figure_key)
where r.statement_rank = 1
