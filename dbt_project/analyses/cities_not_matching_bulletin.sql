-- Cities whose lists do not match a bulletin (报送与通报不符的地市), three ways:
--   1. the city's own figure in a bulletin (city-level statement) differs from its submission
--      (often a ceremony figure larger than the provincial ledger: a report, not an error);
--   2. its submission's declared 合计 row differs from its rows (submission findings);
--   3. the province-wide sum misses the provincial bulletin for a round and stage the city reports
--      in: each city's share of the stage, to see where a gap can come from.
select
    'city figure in bulletin'                        as check_kind,
    f.round_no,
    c.city_name_zh                                   as city,
    f.stage_as_published                             as stage,
    f.measure,
    f.bulletin_value                                 as expected,
    f.submission_sum                                 as actual,
    f.difference,
    f.status                                         as detail
from {{ ref('rpt_bulletin_city_comparison') }} as f
join {{ ref('dim_city') }} as c using (city_code)
where f.status <> 'match'

union all

select
    'declared total in submission',
    s.round_no,
    s.city_name_zh,
    s.sheet,
    s.finding,
    s.expected,
    s.actual,
    s.difference,
    s.detail
from {{ ref('rpt_submission_findings') }} as s
where s.finding = 'total_mismatch'

union all

select
    'province total not reconciled',
    r.round_no,
    c.city_name_zh,
    r.stage_code,
    r.measure,
    r.provincial_value,
    case when r.measure = 'project_count' then f.project_count else f.investment_yi end,
    r.difference,
    r.status
from {{ ref('rpt_reconciliation') }} as r
join {{ ref('fct_city_round_stage') }} as f
    on f.round_no = r.round_no and f.stage_code = r.stage_code
join {{ ref('dim_city') }} as c on c.city_code = f.city_code
where r.status in ('mismatch', 'conflict')
order by round_no, check_kind, city
