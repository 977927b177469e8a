-- Lifecycle conversion by city (各地项目转化情况): of the projects signed early enough to be judged,
-- the share that started within the window (var conversion_window_rounds, default 4 rounds), the
-- share of started projects in production within it, median rounds per step, and the investment
-- that has not moved.
select
    c.city_name_zh                                   as city,
    l.signed_cohort_projects,
    l.signed_started_share,
    l.started_cohort_projects,
    l.started_in_production_share,
    l.median_rounds_signed_to_started,
    l.median_rounds_started_to_production,
    l.not_moved_projects,
    l.not_moved_investment_yi,
    l.signed_not_started_investment_yi
from {{ ref('rpt_lifecycle_conversion') }} as l
join {{ ref('dim_city') }} as c using (city_code)
where l.grouping_level = 'city'
order by l.signed_started_share desc nulls last, c.sort_order
