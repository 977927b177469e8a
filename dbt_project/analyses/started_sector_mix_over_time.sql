-- Sector mix of the projects that started construction (开工一批), round by round: count, 亿元 and
-- share of the round's 开工 investment per sector, with the 2025 领域 each sector falls under
-- (dim_sector.domain_2025_code, an approximate crosswalk) so rounds before and after the 2025 change
-- of taxonomy can be compared.
select
    f.round_no,
    r.held_quarter,
    d.sector_name_zh                                   as sector,
    coalesce(d2.sector_name_zh, '其他/未知')            as domain_2025,
    sum(f.project_count)                               as projects,
    sum(f.investment_yi)                               as investment_yi,
    round(100.0 * sum(f.investment_yi)
          / sum(sum(f.investment_yi)) over (partition by f.round_no), 1) as pct_of_round
from {{ ref('fct_city_round_stage_sector') }} as f
join {{ ref('dim_round') }} as r using (round_no)
join {{ ref('dim_sector') }} as d using (sector_code)
left join {{ ref('dim_sector') }} as d2 on d2.sector_code = d.domain_2025_code
where f.stage_code = 'started'
group by f.round_no, r.held_quarter, d.sector_name_zh, d.sort_order, d2.sector_name_zh
order by f.round_no, d.sort_order
