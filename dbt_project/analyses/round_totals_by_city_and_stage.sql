-- A round's totals by city and stage (某期各地分批次汇总), next to the provincial bulletin.
-- Change the round with: dbt compile --select round_totals_by_city_and_stage --vars '{round_no: 13}'
-- then run target/compiled/sanpi/analyses/round_totals_by_city_and_stage.sql with `sanpi sql`.
select
    c.city_name_zh                                   as city,
    s.stage_name_zh                                  as stage,
    f.project_count,
    f.investment_yi,
    f.has_submission_file,
    round(100.0 * f.investment_yi / sum(f.investment_yi) over (partition by f.stage_code), 1) as pct_of_stage,
    b.project_count                                  as bulletin_project_count,
    b.investment_yi                                  as bulletin_investment_yi
from {{ ref('fct_city_round_stage') }} as f
join {{ ref('dim_city') }} as c using (city_code)
join {{ ref('dim_stage') }} as s using (stage_code)
left join {{ ref('fct_bulletin_total') }} as b
    on b.round_no = f.round_no and b.stage_code = f.stage_code
where f.round_no = {{ var('round_no', 13) }}
order by s.stage_order, f.investment_yi desc, c.sort_order
