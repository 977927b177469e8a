-- One row per round per city per stage per sector (期次-单位-批次-领域) with at least one project
-- (not zero-filled: fct_city_round_stage is the zero-filled grid). Carried-over production
-- (结转投产) is counted separately so new investment can be told from carried-over investment.
select
    round_no,
    city_code,
    stage_code,
    sector_code,
    count(*)                                                          as project_count,
    cast(sum(investment_yi) as decimal(18, 4))                        as investment_yi,
    count(*) filter (where is_carried_over)                           as carried_over_count,
    cast(coalesce(sum(investment_yi) filter (where is_carried_over), 0) as decimal(18, 4))
                                                                      as carried_over_investment_yi
from {{ ref('fct_project_stage') }}
group by round_no, city_code, stage_code, sector_code
