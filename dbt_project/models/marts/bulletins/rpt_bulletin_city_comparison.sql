-- One row per city- or county-level headline figure in the current bulletins (地市/县区公布数字) per
-- round, stage as published and measure, against the sum of what the unit submitted for the same
-- round and stages (city: its submission; county: the projects whose 所在县区 is that county).
-- A report, not a check: a city's own ceremony figures are often larger than what enters the
-- provincial ledger (纳入省台账), e.g. 信阳 round 7: 275 projects at the city ceremony, 112 in the
-- ledger. difference = bulletin_value − submission_sum. status: match (within the rounding
-- tolerance; a lower bound matches when the submissions reach it), bulletin_higher, bulletin_lower,
-- no_submissions, unknown_unit (the city name did not resolve) or conflict (sources disagree).
with figures as (
    select *
    from {{ ref('int_bulletin_figure_agreement') }}
    where is_headline
      and unit_level in ('city', 'county')
      and round_no is not null
),

covered as (
    select
        f.*,
        unnest(case f.stage_as_published
                   when 'signed+started' then ['signed', 'started']
                   when 'all' then ['signed', 'started', 'production']
                   else [f.stage_as_published] end) as covered_stage_code
    from figures as f
),

city_sums as (
    select round_no, city_code, stage_code, project_count, investment_yi, has_submission_file
    from {{ ref('fct_city_round_stage') }}
),

county_sums as (
    select round_no, lower(trim(county)) as county, stage_code,
           count(*) as project_count, sum(investment_yi) as investment_yi
    from {{ ref('fct_project_stage') }}
    where county is not null
    group by all
),

summed as (
    select
        c.figure_key,
        sum(case when c.measure = 'project_count'
                 then coalesce(cs.project_count, ks.project_count)
                 else coalesce(cs.investment_yi, ks.investment_yi) end)          as submission_sum,
        sum(coalesce(cs.project_count, ks.project_count, 0))                     as submission_project_count,
        bool_or(coalesce(cs.has_submission_file, ks.project_count > 0, false))   as has_submissions
    from covered as c
    left join city_sums as cs
        on c.unit_level = 'city'
       and cs.round_no = c.round_no and cs.city_code = c.city_code and cs.stage_code = c.covered_stage_code
    left join county_sums as ks
        on c.unit_level = 'county'
       and ks.round_no = c.round_no and ks.county = lower(trim(c.unit)) and ks.stage_code = c.covered_stage_code
    group by c.figure_key
),

compared as (
    select
        f.*,
        case when f.is_agreed then f.preferred_value end                  as bulletin_value,
        cast(s.submission_sum as decimal(18, 4))                          as submission_sum,
        s.submission_project_count,
        coalesce(s.has_submissions, false)                                as has_submissions
    from figures as f
    left join summed as s using (figure_key)
)

select
    figure_key,
    round_no,
    unit_level,
    unit,
    city_code,
    stage_as_published,
    measure,
    bulletin_value,
    case when is_agreed then preferred_qualifier end                      as qualifier,
    case when is_agreed then preferred_tolerance end                      as tolerance,
    submission_sum,
    cast(bulletin_value - submission_sum as decimal(18, 4))               as difference,
    case
        when not is_agreed then 'conflict'
        when unit_level = 'city' and city_code = '000000' then 'unknown_unit'
        when not has_submissions or submission_project_count = 0 then 'no_submissions'
        when preferred_qualifier = 'lower_bound'
            then case when submission_sum >= bulletin_value - coalesce(preferred_tolerance, 0)
                      then 'match' else 'bulletin_higher' end
        when abs(bulletin_value - submission_sum) <= coalesce(preferred_tolerance, 0) then 'match'
        when bulletin_value > submission_sum then 'bulletin_higher'
        else 'bulletin_lower'
    end                                                                   as status,
    statement_count,
    values_stated,
    preferred_source_text                                                 as source_text,
    preferred_file_path                                                   as bulletin_file_path
from compared
