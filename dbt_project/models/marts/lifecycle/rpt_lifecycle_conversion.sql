-- One row per grouping level (province, city, sector, city x sector) per city and sector: how
-- projects move through the stages (转化率). With N = var('conversion_window_rounds') and L the
-- latest round listed:
--   signed_started_share        of the projects signed in rounds <= L - N (the cohort that had N
--                               rounds to start), the share that started within N rounds of signing
--   started_in_production_share of the projects started in rounds <= L - N, the share in production
--                               within N rounds of starting
--   median_rounds_*             median rounds between the steps, over the projects that took them
--   not_moved_*                 projects (and their latest 亿元) that are not in production and have
--                               not moved for var('stalled_after_rounds') rounds (fct_project_lifecycle)
--   signed_not_started_investment_yi   亿元 signed in rounds <= L - N and never started
-- A project counts under the city and sector of its latest listing. Shares are ratios of the
-- counts in the same row, so they can be recomputed for any other grouping from fct_project_lifecycle.
with lifecycle as (
    select * from {{ ref('fct_project_lifecycle') }}
),

params as (
    select
        max(latest_round_no)                                  as latest_round_no,
        {{ var('conversion_window_rounds') }}                 as window_rounds
    from lifecycle
),

flagged as (
    select
        l.*,
        p.window_rounds,
        l.signed_round_no <= p.latest_round_no - p.window_rounds     as is_signed_observable,
        l.started_round_no <= p.latest_round_no - p.window_rounds    as is_started_observable
    from lifecycle as l
    cross join params as p
),

grouped as (
    select
        case grouping(city_code, sector_code)
            when 0 then 'city_sector' when 1 then 'city' when 2 then 'sector' else 'province'
        end                                                                            as grouping_level,
        city_code,
        sector_code,
        count(*)                                                                       as project_count,
        count(*) filter (where signed_round_no is not null)                            as signed_projects,
        cast(coalesce(sum(signed_investment_yi), 0) as decimal(18, 4))                 as signed_investment_yi,
        count(*) filter (where is_signed_observable)                                   as signed_cohort_projects,
        count(*) filter (where is_signed_observable and rounds_signed_to_started <= {{ var('conversion_window_rounds') }})
                                                                                       as signed_started_within_window,
        count(*) filter (where started_round_no is not null)                           as started_projects,
        cast(coalesce(sum(started_investment_yi), 0) as decimal(18, 4))                as started_investment_yi,
        count(*) filter (where is_started_observable)                                  as started_cohort_projects,
        count(*) filter (where is_started_observable and rounds_started_to_production <= {{ var('conversion_window_rounds') }})
                                                                                       as started_in_production_within_window,
        count(*) filter (where production_round_no is not null)                        as production_projects,
        median(rounds_signed_to_started)                                               as median_rounds_signed_to_started,
        median(rounds_started_to_production)                                           as median_rounds_started_to_production,
        count(*) filter (where is_not_moved)                                           as not_moved_projects,
        cast(coalesce(sum(latest_investment_yi) filter (where is_not_moved), 0) as decimal(18, 4))
                                                                                       as not_moved_investment_yi,
        cast(coalesce(sum(signed_investment_yi) filter (where is_signed_observable and started_round_no is null), 0)
             as decimal(18, 4))                                                        as signed_not_started_investment_yi
    from flagged
    group by grouping sets ((city_code, sector_code), (city_code), (sector_code), ())
)

select
    g.grouping_level,
    g.city_code,
    g.sector_code,
    p.window_rounds                                                     as conversion_window_rounds,
    p.latest_round_no,
    g.project_count,
    g.signed_projects,
    g.signed_investment_yi,
    g.signed_cohort_projects,
    g.signed_started_within_window,
    cast(round(g.signed_started_within_window / nullif(g.signed_cohort_projects, 0), 4) as decimal(9, 4))
                                                                        as signed_started_share,
    g.started_projects,
    g.started_investment_yi,
    g.started_cohort_projects,
    g.started_in_production_within_window,
    cast(round(g.started_in_production_within_window / nullif(g.started_cohort_projects, 0), 4) as decimal(9, 4))
                                                                        as started_in_production_share,
    g.production_projects,
    cast(g.median_rounds_signed_to_started as decimal(6, 1))            as median_rounds_signed_to_started,
    cast(g.median_rounds_started_to_production as decimal(6, 1))        as median_rounds_started_to_production,
    g.not_moved_projects,
    g.not_moved_investment_yi,
    g.signed_not_started_investment_yi
from grouped as g
cross join params as p
